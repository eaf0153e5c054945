"""The fast paths answer exactly what the slow ones did: calendar reads, contact lists, password hashing.

The lean calendar reads (calendars.read_models) are compared byte for byte, with the query counts,
against the serializer path they replaced, run through the same view, pagination and renderer.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import mixins
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework_simplejwt.tokens import AccessToken

from calendars.models import Calendar, Day, Invitation, TimeSlot
from calendars.views import CalendarViewSet, TimeSlotViewSet
from contacts import selectors as contact_selectors
from contacts.models import Contact, ContactStatus
from contacts.views import ContactViewSet
from invitations.views import InvitationInboxView
from oneonone import settings as project_settings
from tests.factories import PASSWORD, CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


class SerializerCalendars(CalendarViewSet):
    """The read path before the lean one: prefetched model instances through CalendarSerializer.

    The API answers every calendar body from calendars.read_models; CalendarSerializer is its schema,
    and these tests hold the two to the same bytes.
    """

    list = mixins.ListModelMixin.list
    retrieve = mixins.RetrieveModelMixin.retrieve

    def get_queryset(self):
        calendars = Calendar.objects.member_of if self.action == "list" else Calendar.objects.visible_to
        return (
            calendars(self.request.user)
            .select_related("creator")
            .prefetch_related(
                Prefetch("days", queryset=Day.objects.order_by("date", "id")),
                Prefetch(
                    "days__timeslots", queryset=TimeSlot.objects.select_related("owner").order_by("start_time", "id")
                ),
                Prefetch("invitations", queryset=Invitation.objects.order_by("invitee_id")),
            )
            .order_by("-created_at", "-id")
        )


class SerializerTimeSlots(TimeSlotViewSet):
    list = mixins.ListModelMixin.list


def t(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime.time:
    return datetime.time(hour, minute, second, micro)


def d(day: int) -> datetime.date:
    return datetime.date(2030, 3, day)


def finalize(calendar: Calendar, date: datetime.date, start: datetime.time, end: datetime.time) -> None:
    Calendar.objects.filter(pk=calendar.pk).update(
        finalized_date=date,
        finalized_start_time=start,
        finalized_end_time=end,
        finalized_at=timezone.now(),
        schedule_revision=1,
    )


@pytest.fixture
def world(db) -> dict:
    """Calendars of several creators, with what could tell the two paths apart."""
    names = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal"]
    u = {name: UserFactory(username=name) for name in names}
    ann, bob, cat, dan, eve, fay = (u[n] for n in names[:6])

    # Days created out of date order; ties on a slot's start between owners, the earlier id
    # ending later (ordered by start then id, not by end); fractions of seconds (cut, not rounded);
    # text that the JSON renderer escapes or must keep as UTF-8.
    busy = CalendarFactory(
        creator=ann,
        title='Kick\u2028off "Q2" \u2029 </script>',
        description="Café ☕ — 会议\nline two\ttab \\ backslash",
        timezone="Europe/Berlin",
    )
    late = DayFactory(calendar=busy, date=d(5), ranking=2)
    early = DayFactory(calendar=busy, date=d(3), ranking=7)
    DayFactory(calendar=busy, date=d(4), ranking=1)  # no slots
    TimeSlotFactory(day=early, owner=bob, start_time=t(9), end_time=t(11), preference="if_need_be")
    TimeSlotFactory(day=early, owner=ann, start_time=t(9), end_time=t(9, 30))
    TimeSlotFactory(day=early, owner=cat, start_time=t(8, 15, 0, 250_000), end_time=t(10, 0, 59, 999_999))
    TimeSlotFactory(day=early, owner=ann, start_time=t(13), end_time=t(14))
    TimeSlotFactory(day=late, owner=cat, start_time=t(7), end_time=t(7, 45, 30))
    InvitationFactory(calendar=busy, invitee=cat, status="accepted")  # invited before bob, larger user id
    InvitationFactory(calendar=busy, invitee=bob, status="accepted")
    InvitationFactory(calendar=busy, invitee=eve, status="pending")
    InvitationFactory(calendar=busy, invitee=fay, status="rejected")

    # Finalized in a zone with daylight saving time, and in one with a 45-minute offset.
    summer = CalendarFactory(creator=bob, timezone="America/New_York", description="")
    for i, day in enumerate([d(8), d(9)]):
        day = DayFactory(calendar=summer, date=day, ranking=i + 1)
        TimeSlotFactory(day=day, owner=bob, start_time=t(10), end_time=t(12))
        TimeSlotFactory(day=day, owner=ann, start_time=t(11), end_time=t(12))
    InvitationFactory(calendar=summer, invitee=ann, status="accepted")
    InvitationFactory(calendar=summer, invitee=dan, status="accepted")
    finalize(summer, d(9), t(11), t(12))
    kathmandu = CalendarFactory(creator=ann, timezone="Asia/Kathmandu")
    DayFactory(calendar=kathmandu, date=d(20), ranking=1)
    finalize(kathmandu, d(20), t(8, 0, 0, 500), t(9, 30))

    invited = CalendarFactory(creator=dan)
    TimeSlotFactory(day=DayFactory(calendar=invited, date=d(1), ranking=3), owner=dan)
    InvitationFactory(calendar=invited, invitee=ann, status="pending")
    declined = CalendarFactory(creator=cat)
    DayFactory(calendar=declined, date=d(2), ranking=1)
    InvitationFactory(calendar=declined, invitee=ann, status="rejected")
    CalendarFactory(creator=ann, title="no days at all")  # the API never makes one; the database allows it
    for i in range(4):  # enough for a few pages
        calendar = CalendarFactory(creator=bob if i % 2 else ann)
        for j in range(3):
            day = DayFactory(calendar=calendar, date=d(10 + j), ranking=j + 1)
            TimeSlotFactory(day=day, owner=calendar.creator, start_time=t(9 + i), end_time=t(10 + i))
        if i % 2:
            InvitationFactory(calendar=calendar, invitee=ann, status="accepted")
    return {
        "users": u,
        "calendars": {
            "busy": busy,
            "summer": summer,
            "kathmandu": kathmandu,
            "invited": invited,
            "declined": declined,
        },
        "days": {"early": early, "late": late},
    }


def bearer(user) -> str:
    return f"Bearer {AccessToken.for_user(user)}"


def lean(user, path: str, params: dict | None = None):
    """The real endpoint; returns (response, queries)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    return response, len(queries)


def reference(view, actions: dict, user, path: str, params: dict | None = None, **kwargs):
    """The serializer path through the same view machinery; returns (response, queries)."""
    request = APIRequestFactory().get(path, params or {}, HTTP_AUTHORIZATION=bearer(user))
    with CaptureQueriesContext(connection) as queries:
        response = (view.as_view(actions) if actions else view.as_view())(request, **kwargs)
        response.render()
    return response, len(queries)


def assert_same(ours, theirs) -> None:
    (response, queries), (expected, expected_queries) = ours, theirs
    assert response.status_code == expected.status_code
    assert response["Content-Type"] == expected["Content-Type"]
    assert response.content == expected.content
    assert queries <= expected_queries


PAGES = [{}, {"page_size": 2}, {"page_size": 2, "page": 2}, {"page_size": 2, "page": 4}, {"page_size": 100}]


class TestCalendarList:
    @pytest.mark.parametrize("name", ["ann", "bob", "cat", "dan", "eve", "hal"])
    @pytest.mark.parametrize("params", PAGES)
    def test_same_bytes_as_the_serializer(self, world, name, params):
        user = world["users"][name]
        ours = lean(user, "/calendars/", params)
        assert_same(ours, reference(SerializerCalendars, {"get": "list"}, user, "/calendars/", params))

    def test_the_comparison_sees_everything(self, world):
        # The data set holds what it is meant to: a page of ann's list with every case in it.
        body = lean(world["users"]["ann"], "/calendars/", {"page_size": 100})[0].json()
        by_id = {c["id"]: c for c in body["results"]}
        u, c = world["users"], world["calendars"]
        assert body["count"] == 5 + 3  # ann created 5 (one with no days at all) and joined 3
        busy = by_id[c["busy"].pk]
        assert busy["title"] == 'Kick\u2028off "Q2" \u2029 </script>'
        assert [day["date"] for day in busy["days"]] == ["2030-03-03", "2030-03-04", "2030-03-05"]
        assert [
            (s["owner_username"], s["start_time"], s["end_time"], s["preference"]) for s in busy["days"][0]["timeslots"]
        ] == [
            ("cat", "08:15:00", "10:00:59", "yes"),
            ("bob", "09:00:00", "11:00:00", "if_need_be"),
            ("ann", "09:00:00", "09:30:00", "yes"),
            ("ann", "13:00:00", "14:00:00", "yes"),
        ]
        assert busy["participants"] == [u["bob"].pk, u["cat"].pk]
        assert busy["finalized"] is None
        assert by_id[c["summer"].pk]["finalized"] == {
            "date": "2030-03-09",
            "start_time": "11:00:00",
            "end_time": "12:00:00",
            "starts_at": "2030-03-09T11:00:00-05:00",
            "ends_at": "2030-03-09T12:00:00-05:00",
        }
        assert by_id[c["kathmandu"].pk]["finalized"]["starts_at"] == "2030-03-20T08:00:00.000500+05:45"
        assert c["invited"].pk not in by_id
        assert c["declined"].pk not in by_id
        assert [len(x["days"]) for x in body["results"] if x["title"] == "no days at all"] == [0]
        raw = lean(world["users"]["ann"], "/calendars/", {"page_size": 100})[0].content
        assert b"\\u2028" in raw
        assert "Café ☕".encode() in raw

    def test_two_queries_fewer_than_the_serializer(self, world):
        # auth user, calendars with their count (and versions), days with their timeslots, invitations
        assert lean(world["users"]["ann"], "/calendars/", {"page_size": 100})[1] == 4

    def test_out_of_range_page_and_anonymous(self, world):
        user = world["users"]["ann"]
        params = {"page": 9}
        assert_same(
            lean(user, "/calendars/", params),
            reference(SerializerCalendars, {"get": "list"}, user, "/calendars/", params),
        )
        assert APIClient().get("/calendars/").status_code == 401


class TestCalendarDetail:
    @pytest.mark.parametrize("calendar", ["busy", "summer", "kathmandu", "invited", "declined"])
    @pytest.mark.parametrize("name", ["ann", "bob", "cat", "dan", "eve", "fay", "gus"])
    def test_same_bytes_as_the_serializer(self, world, calendar, name):
        # Creators, participants, pending invitees (eve on busy, ann on invited) and 404s (fay, gus).
        user, pk = world["users"][name], world["calendars"][calendar].pk
        path = f"/calendars/{pk}/"
        ours = lean(user, path)
        theirs = reference(SerializerCalendars, {"get": "retrieve"}, user, path, pk=pk)
        assert_same(ours, theirs)

    def test_pending_invitee_sees_it_and_stranger_does_not(self, world):
        busy = world["calendars"]["busy"]
        response, queries = lean(world["users"]["eve"], f"/calendars/{busy.pk}/")
        assert response.status_code == 200
        assert response.json()["participants"] == sorted([world["users"]["bob"].pk, world["users"]["cat"].pk])
        assert queries == 4  # auth user, calendar, days with their timeslots, accepted invitations
        response = lean(world["users"]["gus"], f"/calendars/{busy.pk}/")[0]
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
        assert lean(world["users"]["gus"], "/calendars/987654/")[0].status_code == 404


class TestTimeSlotList:
    @pytest.mark.parametrize("day", ["early", "late"])
    @pytest.mark.parametrize("name", ["ann", "cat", "eve", "gus"])
    @pytest.mark.parametrize("params", [{}, {"page_size": 3, "page": 2}])
    def test_same_bytes_as_the_serializer(self, world, day, name, params):
        day = world["days"][day]
        user = world["users"][name]
        path = f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/"
        ours = lean(user, path, params)
        theirs = reference(
            SerializerTimeSlots, {"get": "list"}, user, path, params, calendar_id=day.calendar_id, day_id=day.pk
        )
        assert_same(ours, theirs)

    def test_ordered_by_start_then_end(self, world):
        day = world["days"]["early"]
        body = lean(world["users"]["ann"], f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/")[0].json()
        assert [(s["owner_username"], s["start_time"]) for s in body["results"]] == [
            ("cat", "08:15:00"),
            ("ann", "09:00:00"),
            ("bob", "09:00:00"),
            ("ann", "13:00:00"),
        ]


class TestTimeSlotDetail:
    @pytest.mark.parametrize("name", ["ann", "cat", "eve", "gus"])
    def test_same_bytes_as_the_serializer(self, world, name):
        user = world["users"][name]
        for day in world["days"].values():
            for slot in TimeSlot.objects.filter(day=day):
                path = f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/{slot.pk}/"
                kwargs = {"calendar_id": day.calendar_id, "day_id": day.pk, "pk": slot.pk}
                theirs = reference(SerializerTimeSlots, {"get": "retrieve"}, user, path, **kwargs)
                assert_same(lean(user, path), theirs)
        other = world["days"]["late"]
        slot = TimeSlot.objects.filter(day=world["days"]["early"]).first()
        # A slot asked for under another day of the calendar is not found, as before.
        path = f"/calendars/{other.calendar_id}/day/{other.pk}/timeslot/{slot.pk}/"
        kwargs = {"calendar_id": other.calendar_id, "day_id": other.pk, "pk": slot.pk}
        assert_same(lean(user, path), reference(SerializerTimeSlots, {"get": "retrieve"}, user, path, **kwargs))


class SerializerInbox(InvitationInboxView):
    """The inbox before its rows were read once for its body and its ETag: DRF's list with the serializer."""

    list = mixins.ListModelMixin.list


class TestInbox:
    @pytest.mark.parametrize("name", ["ann", "bob", "cat", "eve", "fay", "hal"])
    @pytest.mark.parametrize("params", [*PAGES, {"status": "pending"}, {"status": "nope"}, {"page": "last"}])
    def test_same_bytes_as_the_serializer(self, world, name, params):
        user = world["users"][name]
        for extra in range(3):  # more than one page for ann
            InvitationFactory(invitee=world["users"]["ann"], status=["pending", "accepted", "rejected"][extra])
        ours = lean(user, "/invitations/", params)
        assert_same(ours, reference(SerializerInbox, None, user, "/invitations/", params))


# Contacts -----------------------------------------------------------------------------------------------------


def related_before(user, status: int) -> Exists:
    """The formulation replaced in contacts.selectors: one EXISTS with an OR inside."""
    return Exists(
        Contact.objects.filter(status=status).filter(
            Q(userA=user, userB=OuterRef("pk")) | Q(userA=OuterRef("pk"), userB=user)
        )
    )


@pytest.fixture
def web(db) -> list:
    """Relations of every status in both directions among 12 users, usernames not in id order."""
    users = [UserFactory(username=f"{'zyxwvutsrqpo'[i]}user{i}") for i in range(12)]
    statuses = [ContactStatus.FRIENDS, ContactStatus.PENDING, ContactStatus.REJECTED, ContactStatus.BLOCKED]
    for i, a in enumerate(users):
        for j in range(i + 1, len(users)):
            if (i * 7 + j * 3) % 4 == 0:
                continue  # some pairs have no relation
            first, second = (a, users[j]) if (i + j) % 2 else (users[j], a)
            Contact.objects.create(userA=first, userB=second, status=statuses[(i * j + i) % 4])
    return users


class SerializerContacts(ContactViewSet):
    """The user lists before their rows were read once for their body and their ETag: count, page, serializer."""

    def _tagged_users(self, kind, queryset):
        return self._users(queryset)


@pytest.mark.parametrize("action", ["friends", "incoming", "outgoing", "blocked"])
@pytest.mark.parametrize("params", PAGES)
def test_user_lists_same_bytes_as_the_serializer(web, action, params):
    for user in web[::3]:
        path = f"/contacts/{action}/"
        ours = lean(user, path, params)
        theirs = reference(SerializerContacts, {"get": action}, user, path, params)
        assert_same(ours, theirs)


def test_friends_and_search_give_the_same_rows_as_before(web):
    for user in web:
        friends = list(contact_selectors.friends_of(user=user))
        before = User.objects.filter(related_before(user, ContactStatus.FRIENDS)).order_by("username", "id")
        assert friends == list(before)
        for text in ["", "user1", "Z"]:
            found = list(contact_selectors.user_search(user=user, text=text))
            before = User.objects.exclude(pk=user.pk).exclude(related_before(user, ContactStatus.BLOCKED))
            if text:
                before = before.filter(username__icontains=text)
            assert found == list(before.order_by("username", "id"))
    assert any(contact_selectors.friends_of(user=user).exists() for user in web)


# Password hashing -------------------------------------------------------------------------------------------


@pytest.fixture
def production_hashers(settings):
    # tests/conftest.py switches every test to MD5 for speed; these tests are about the real list.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def argon2_parameters(encoded: str) -> str:
    return encoded.split("$")[3]


def test_new_password_is_argon2id_at_owasp_minimum(production_hashers, api_client):
    body = {"username": "dora", "password": "s3cure-Passw0rd!", "password2": "s3cure-Passw0rd!"}
    assert api_client.post("/auth/register/", body, format="json").status_code == 201
    encoded = User.objects.get(username="dora").password
    assert encoded.startswith("argon2$argon2id$v=19$")
    assert argon2_parameters(encoded) == "m=19456,t=2,p=1"
    response = api_client.post("/auth/login/", {"username": "dora", "password": "s3cure-Passw0rd!"}, format="json")
    assert response.status_code == 200
    assert User.objects.get(username="dora").password == encoded  # current parameters: not rehashed


@pytest.mark.parametrize(
    "old",
    [
        "pbkdf2_sha256",  # Django's default before, at its 1,000,000 iterations
        "pbkdf2_sha1",
    ],
)
def test_older_hash_verifies_and_is_upgraded_at_login(production_hashers, api_client, old):
    user = UserFactory(username="olga")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher=old))
    wrong = api_client.post("/auth/login/", {"username": "olga", "password": "not-it-123"}, format="json")
    assert wrong.status_code == 401
    assert identify_hasher(User.objects.get(pk=user.pk).password).algorithm == old  # a failed login changes nothing
    response = api_client.post("/auth/login/", {"username": "olga", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    encoded = User.objects.get(pk=user.pk).password
    assert encoded.startswith("argon2$argon2id$")
    assert argon2_parameters(encoded) == "m=19456,t=2,p=1"
    assert check_password(PASSWORD, encoded)
    again = api_client.post("/auth/login/", {"username": "olga", "password": PASSWORD}, format="json")
    assert again.status_code == 200


def test_argon2_hash_with_other_parameters_is_rehashed(production_hashers, api_client):
    # Django's own Argon2 defaults (100 MiB, 8 lanes) share the algorithm name: verified, then rehashed.
    from django.contrib.auth.hashers import Argon2PasswordHasher

    user = UserFactory(username="olga")
    heavy = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    assert argon2_parameters(heavy) == "m=102400,t=2,p=8"
    User.objects.filter(pk=user.pk).update(password=heavy)
    response = api_client.post("/auth/login/", {"username": "olga", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert argon2_parameters(User.objects.get(pk=user.pk).password) == "m=19456,t=2,p=1"
