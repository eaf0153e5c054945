"""Strong ETags on the polled reads (oneonone.etags, calendars.versions): 304s, If-Match, tags that follow every write.

The heart of it: a world of a calendar with a creator, participants and a pending invitee; every viewer reads
every tagged endpoint before and after a write; then, over all those answers, two answers share a tag only
when they share the body (per viewer: never across users), and every body the write changed answers 200 to
the tag from before. Every write the API, the signals and the admin make is one case.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from calendars.models import Calendar, Day, Invitation, TimeSlot
from contacts.models import Contact
from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    CalendarFactory,
    DayFactory,
    InvitationFactory,
    TimeSlotFactory,
    UserFactory,
    make_friends,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
VIEWERS = ("alice", "bob", "cat", "dora", "eve")


def t(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


@pytest.fixture
def w(db):
    """alice created `cal` (two days) and `other`; bob and cat take part, dora is invited; eve is alice's friend."""
    u = {name: UserFactory(username=name) for name in VIEWERS}
    for name in ("bob", "cat", "dora", "eve"):
        make_friends(u["alice"], u[name])
    cal = CalendarFactory(creator=u["alice"], title="Board", timezone="Europe/Berlin")
    day1 = DayFactory(calendar=cal, date=datetime.date(2030, 5, 6), ranking=1)
    day2 = DayFactory(calendar=cal, date=datetime.date(2030, 5, 7), ranking=2)
    slots = {
        "alice": TimeSlotFactory(day=day1, owner=u["alice"], start_time=t(9), end_time=t(12)),
        "bob": TimeSlotFactory(day=day1, owner=u["bob"], start_time=t(10), end_time=t(11)),
        "cat": TimeSlotFactory(day=day1, owner=u["cat"], start_time=t(9), end_time=t(10)),
        "cat2": TimeSlotFactory(day=day2, owner=u["cat"], start_time=t(14), end_time=t(15)),
    }
    invitations = {
        "bob": InvitationFactory(calendar=cal, invitee=u["bob"], status="accepted"),
        "cat": InvitationFactory(calendar=cal, invitee=u["cat"], status="accepted"),
        "dora": InvitationFactory(calendar=cal, invitee=u["dora"], status="pending"),
    }
    other = CalendarFactory(creator=u["bob"], title="Bob's")
    DayFactory(calendar=other, date=datetime.date(2030, 6, 1), ranking=1)
    InvitationFactory(calendar=other, invitee=u["cat"], status="accepted")
    return {"u": u, "cal": cal, "day1": day1, "day2": day2, "slots": slots, "inv": invitations, "other": other}


def paths(w) -> list[str]:
    cal, day1 = w["cal"], w["day1"]
    return [
        "/calendars/",
        "/calendars/?page_size=1",
        f"/calendars/{cal.pk}/",
        f"/calendars/{w['other'].pk}/",
        f"/calendars/{cal.pk}/day/{day1.pk}/timeslot/",
        f"/calendars/{cal.pk}/day/{w['day2'].pk}/timeslot/?page_size=1",
        f"/calendars/{cal.pk}/day/{day1.pk}/timeslot/{w['slots']['bob'].pk}/",
        f"/calendars/{cal.pk}/suggestions/?duration=30",
        f"/calendars/{cal.pk}/suggestions/?duration=60&tz=Asia/Tokyo",
        "/invitations/",
        "/invitations/?status=pending",
        "/contacts/friends/",
        "/contacts/incoming/",
        "/contacts/outgoing/",
        "/contacts/blocked/",
    ]


def observe(w) -> dict[tuple[str, str], tuple[int, str | None, bytes]]:
    """(viewer, path) -> (status, ETag, body) for every viewer and tagged path."""
    seen = {}
    for name in VIEWERS:
        user = User.objects.filter(username=name).first() or User.objects.filter(pk=w["u"][name].pk).first()
        if user is None:  # deleted by the write
            continue
        client = client_for(user)
        for path in paths(w):
            response = client.get(path)
            seen[(name, path)] = (response.status_code, response.get("ETag"), response.content)
    return seen


def assert_tags_follow_bodies(before: dict, after: dict) -> None:
    """Same tag, same body; never a tag shared by two viewers; a changed body answers 200 to the old tag."""
    by_tag: dict[str, tuple[str, bytes]] = {}
    for observations in (before, after):
        for (name, path), (status, etag, body) in observations.items():
            if status != 200:
                continue
            assert etag, (name, path)
            if etag in by_tag:
                assert by_tag[etag] == (name, body), f"{name} {path}: a tag shared with another body or user"
            by_tag[etag] = (name, body)
    for key, (status, etag, body) in before.items():
        if status != 200 or key not in after:
            continue
        new_status, new_etag, new_body = after[key]
        if (new_status, new_body) != (status, body):
            assert new_etag != etag, f"{key}: the body changed, the tag did not"


def changed(before: dict, after: dict) -> set[tuple[str, str]]:
    return {key for key in before if key in after and before[key][::2] != after[key][::2]}


def admin_client() -> Client:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def slot_body(w, name):
    return {"start_time": "16:00", "end_time": "17:00"}


# Every write, as (who, what it does); each returns nothing and asserts its own status.
def add_slot(w):
    day = w["day1"]
    response = client_for(w["u"]["bob"]).post(
        f"/calendars/{w['cal'].pk}/day/{day.pk}/timeslot/", {"start_time": "13:00", "end_time": "14:00"}, format="json"
    )
    assert response.status_code == 201


def move_slot(w):
    slot = w["slots"]["cat"]
    response = client_for(w["u"]["cat"]).put(
        f"/calendars/{w['cal'].pk}/day/{w['day1'].pk}/timeslot/{slot.pk}/",
        {"start_time": "08:00", "end_time": "09:30"},
        format="json",
    )
    assert response.status_code == 200


def slot_preference(w):
    slot = w["slots"]["bob"]
    response = client_for(w["u"]["bob"]).put(
        f"/calendars/{w['cal'].pk}/day/{w['day1'].pk}/timeslot/{slot.pk}/",
        {"start_time": "10:00", "end_time": "11:00", "preference": "if_need_be"},
        format="json",
    )
    assert response.status_code == 200


def delete_slot(w):
    slot = w["slots"]["bob"]
    response = client_for(w["u"]["bob"]).delete(f"/calendars/{w['cal'].pk}/day/{w['day1'].pk}/timeslot/{slot.pk}/")
    assert response.status_code == 204


def whole_day(w):
    response = client_for(w["u"]["cat"]).put(
        f"/calendars/{w['cal'].pk}/day/{w['day2'].pk}/timeslot/",
        [
            {"start_time": "14:00", "end_time": "15:00", "preference": "if_need_be"},
            {"start_time": "18:00", "end_time": "19:00"},
        ],
        format="json",
    )
    assert response.status_code == 200


def edit(w, **changes):
    cal = w["cal"]
    body = {
        "title": cal.title,
        "description": cal.description,
        "timezone": cal.timezone,
        "days": [
            {"id": w["day1"].pk, "date": "2030-05-06", "ranking": 1},
            {"id": w["day2"].pk, "date": "2030-05-07", "ranking": 2},
        ],
        **changes,
    }
    response = client_for(w["u"]["alice"]).put(f"/calendars/{cal.pk}/", body, format="json")
    assert response.status_code == 200, response.content


def edit_day(w):
    edit(
        w,
        days=[
            {"id": w["day1"].pk, "date": "2030-05-06", "ranking": 1},
            {"id": w["day2"].pk, "date": "2030-05-09", "ranking": 2},
        ],
    )


def add_day(w):
    edit(
        w,
        days=[
            {"id": w["day1"].pk, "date": "2030-05-06", "ranking": 1},
            {"id": w["day2"].pk, "date": "2030-05-07", "ranking": 2},
            {"date": "2030-05-08", "ranking": 3},
        ],
    )


def move_respond_by(w):
    edit(w, respond_by="2031-01-01T12:00:00Z")


def rename_calendar(w):
    edit(w, title="Board (moved)")


def invitation_answer(name, status):
    def write(w):
        invitation = w["inv"][name]
        response = client_for(w["u"][name]).put(
            f"/calendars/{w['cal'].pk}/invitations/{invitation.pk}/", {"status": status}, format="json"
        )
        assert response.status_code == 204

    return write


def revoke(w):
    invitation = w["inv"]["bob"]
    response = client_for(w["u"]["alice"]).delete(f"/calendars/{w['cal'].pk}/invitations/{invitation.pk}/")
    assert response.status_code == 204


def invite(w):
    response = client_for(w["u"]["alice"]).post(
        f"/calendars/{w['cal'].pk}/invitations/", {"invitee_username": "eve"}, format="json"
    )
    assert response.status_code == 201


def contact_move(actor, verb, other):
    def write(w):
        response = client_for(w["u"][actor]).post(f"/contacts/{verb}/", {"username": other}, format="json")
        assert response.status_code == 200, response.content

    return write


def finalize(w):
    response = client_for(w["u"]["alice"]).post(
        f"/calendars/{w['cal'].pk}/finalize/",
        {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:00"},
        format="json",
    )
    assert response.status_code == 200


def undo(w):
    response = client_for(w["u"]["alice"]).delete(f"/calendars/{w['cal'].pk}/finalize/")
    assert response.status_code == 200


def finalize_then_undo(w):
    finalize(w)
    undo(w)


def rename_user(w):
    cat = User.objects.get(username="cat")
    cat.username = "catherine"
    cat.save()


def rename_user_in_the_admin(w):
    cat = w["u"]["cat"]
    response = admin_client().post(
        f"/admin/accounts/user/{cat.pk}/change/",
        {
            "username": "kitty",
            "email": "",
            "is_active": "on",
            "date_joined_0": "2030-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2030-01-01",
            "initial-date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(pk=cat.pk).username == "kitty"


def delete_account(w):
    response = client_for(w["u"]["cat"]).delete("/auth/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204


def delete_account_in_the_admin(w):
    response = admin_client().post(f"/admin/accounts/user/{w['u']['cat'].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="cat").exists()


def admin_moves_slot(w):
    slot = w["slots"]["cat"]
    response = admin_client().post(
        f"/admin/calendars/timeslot/{slot.pk}/change/",
        {
            "day": w["day2"].pk,
            "owner": slot.owner_id,
            "start_time": "07:00:00",
            "end_time": "08:00:00",
            "preference": "yes",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert TimeSlot.objects.get(pk=slot.pk).day_id == w["day2"].pk


def admin_deletes_slot(w):
    response = admin_client().post(f"/admin/calendars/timeslot/{w['slots']['bob'].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302


def admin_answers_invitation(w):
    invitation = w["inv"]["dora"]
    response = admin_client().post(
        f"/admin/calendars/invitation/{invitation.pk}/change/",
        {
            "calendar": invitation.calendar_id,
            "invitee": invitation.invitee_id,
            "inviter": invitation.inviter_id,
            "status": "accepted",
            "invited_at_0": "2030-01-01",
            "invited_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]


def admin_renames_calendar(w):
    cal = w["cal"]
    days = [w["day1"], w["day2"]]
    form = {
        "creator": cal.creator_id,
        "title": "Renamed in the admin",
        "description": "",
        "timezone": cal.timezone,
        "schedule_revision": 0,
        "invitation_round": 0,
        "days-TOTAL_FORMS": 2,
        "days-INITIAL_FORMS": 2,
        "days-MIN_NUM_FORMS": 0,
        "days-MAX_NUM_FORMS": 1000,
    }
    for i, day in enumerate(days):
        form |= {
            f"days-{i}-id": day.pk,
            f"days-{i}-calendar": cal.pk,
            f"days-{i}-date": day.date,
            f"days-{i}-ranking": day.ranking,
        }
    response = admin_client().post(f"/admin/calendars/calendar/{cal.pk}/change/", form)
    assert response.status_code == 302, response.content[:3000]
    assert Calendar.objects.get(pk=cal.pk).title == "Renamed in the admin"


def delete_calendar(w):
    assert client_for(w["u"]["alice"]).delete(f"/calendars/{w['cal'].pk}/").status_code == 204


def create_calendar(w):
    body = {"title": "New", "days": [{"date": "2030-07-01", "ranking": 1}]}
    assert client_for(w["u"]["cat"]).post("/calendars/", body, format="json").status_code == 201


WRITES = {
    "slot added by a participant": add_slot,
    "slot moved by its owner": move_slot,
    "slot's preference changed": slot_preference,
    "slot deleted": delete_slot,
    "whole day PUT": whole_day,
    "a day's date edited": edit_day,
    "a day added": add_day,
    "respond_by moved": move_respond_by,
    "title edited": rename_calendar,
    "invitation accepted": invitation_answer("dora", "accepted"),
    "invitation rejected by a participant": invitation_answer("bob", "rejected"),
    "invitation revoked": revoke,
    "invitation sent": invite,
    "friendship ended (a participant leaves)": contact_move("alice", "unadd", "bob"),
    "blocked (a participant leaves)": contact_move("bob", "block", "alice"),
    "friend request sent": contact_move("bob", "add", "dora"),
    "finalized": finalize,
    "finalize undone": (finalize, undo),
    "username changed": rename_user,
    "username changed in the admin": rename_user_in_the_admin,
    "a participant deleted their account": delete_account,
    "a participant's account deleted in the admin": delete_account_in_the_admin,
    "slot moved to another day in the admin": admin_moves_slot,
    "slot deleted in the admin": admin_deletes_slot,
    "invitation answered in the admin": admin_answers_invitation,
    "calendar edited in the admin": admin_renames_calendar,
    "calendar deleted": delete_calendar,
    "calendar created": create_calendar,
}


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_changes_every_tag_whose_body_it_changes(w, name, mailoutbox, settings):
    settings.DEFAULT_FROM_EMAIL = "noreply@example.com"
    write = WRITES[name]
    if isinstance(write, tuple):  # (what comes before, the write)
        write[0](w)
        write = write[1]
    before = observe(w)
    write(w)
    after = observe(w)
    assert changed(before, after), "the write changed nothing anybody reads: the case tests nothing"
    assert_tags_follow_bodies(before, after)
    # And the tags from before answer in full where the body changed, 304 where the tag stayed. (A tag may change
    # with a body that did not: a calendar's version counts any change of it, so a slot on one day changes the
    # tag of the other day's list too. That costs a poller one full read, never a stale body.)
    differ = changed(before, after)
    for (viewer, path), (status, etag, _) in before.items():
        user = User.objects.filter(pk=w["u"][viewer].pk).first()
        if status != 200 or user is None or (viewer, path) not in after:
            continue
        now_status, now_etag, _ = after[(viewer, path)]
        response = client_for(user).get(path, HTTP_IF_NONE_MATCH=etag)
        if (viewer, path) in differ:
            assert response.status_code == now_status != 304, (viewer, path)
        elif now_etag == etag:
            assert response.status_code == 304, (viewer, path)
        else:
            assert response.status_code == 200, (viewer, path)


def test_two_viewers_of_the_same_body_have_their_own_tags(w):
    path = f"/calendars/{w['cal'].pk}/"
    bob, cat = (client_for(w["u"][name]).get(path) for name in ("bob", "cat"))
    assert bob.content == cat.content
    assert bob["ETag"] != cat["ETag"]
    assert client_for(w["u"]["cat"]).get(path, HTTP_IF_NONE_MATCH=bob["ETag"]).status_code == 200


# 304s -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(15))
def test_a_poll_that_changed_nothing_is_a_304_in_at_most_two_queries(w, index):
    path = paths(w)[index]
    client = client_for(w["u"]["bob"])
    first = client.get(path)
    if first.status_code != 200:
        pytest.skip(f"bob cannot read {path}")
    assert first["Cache-Control"] == "private, no-cache"
    with CaptureQueriesContext(connection) as queries:
        again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "private, no-cache"
    assert len(queries) <= 2, [q["sql"] for q in queries]
    # A list of tags, a weak form of it, and `*` match too; another tag does not.
    assert client.get(path, HTTP_IF_NONE_MATCH=f'"x", W/{first["ETag"]}').status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH='"not-it"').status_code == 200


def test_the_list_answers_its_pages_and_their_tags(w):
    client = client_for(w["u"]["cat"])
    pages = [client.get("/calendars/", {"page_size": 1, "page": n}) for n in (1, 2)]
    assert [p.json()["count"] for p in pages] == [2, 2]
    assert pages[0]["ETag"] != pages[1]["ETag"]
    assert client.get("/calendars/", {"page_size": 1, "page": 3}).status_code == 404
    assert client.get("/calendars/", {"page_size": 1, "page": "last"}).json() == pages[1].json()


LISTS = [
    "/calendars/",
    "/contacts/friends/",
    "/contacts/incoming/",
    "/contacts/outgoing/",
    "/contacts/blocked/",
    "/invitations/",
    "/invitations/?status=pending",
]


@pytest.mark.parametrize("path", [*LISTS, "day"])
@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ({"page_size": 0}, 400, {"page_size": ["Must be a whole number from 1 to 100."]}),
        ({"page_size": "false"}, 400, {"page_size": ["Must be a whole number from 1 to 100."]}),
        ({"page": "true"}, 404, {"detail": "Invalid page."}),
        ({"page": -5}, 404, {"detail": "Invalid page."}),
        ({"page": 99}, 404, {"detail": "Invalid page."}),
        ({"page": 2792612604683169792}, 404, {"detail": "Invalid page."}),  # an offset no database holds
    ],
)
def test_a_star_never_turns_an_error_into_a_304(w, path, query, status, body):
    """`If-None-Match: *` matches any tag, but a page that is an error without it is the same error with it."""
    path = f"/calendars/{w['cal'].pk}/day/{w['day1'].pk}/timeslot/" if path == "day" else path
    client = client_for(w["u"]["alice"])
    plain = client.get(path, query)
    starred = client.get(path, query, HTTP_IF_NONE_MATCH="*")
    assert (plain.status_code, plain.json()) == (status, body)
    assert (starred.status_code, starred.json()) == (status, body)
    assert "ETag" not in starred
    ok = client.get(path, HTTP_IF_NONE_MATCH="*")
    assert ok.status_code == 304
    assert ok["ETag"] == client.get(path)["ETag"]


def test_no_tag_on_errors_or_on_the_browsable_api(w):
    client = client_for(w["u"]["eve"])
    missing = client.get(f"/calendars/{w['cal'].pk}/")
    assert missing.status_code == 404
    assert "ETag" not in missing
    html = client_for(w["u"]["bob"]).get("/calendars/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert "ETag" not in html


def test_a_tag_is_not_a_pass(w):
    """A tag never lets through someone who may not read: eve gets 404 with the tag of bob's answer."""
    path = f"/calendars/{w['cal'].pk}/"
    etag = client_for(w["u"]["bob"]).get(path)["ETag"]
    assert client_for(w["u"]["eve"]).get(path, HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client_for(w["u"]["eve"]).get(path, HTTP_IF_NONE_MATCH="*").status_code == 404


# If-Match -------------------------------------------------------------------------------------------------------


def calendar_put(w, **changes):
    return {
        "title": "Board",
        "days": [
            {"id": w["day1"].pk, "date": "2030-05-06", "ranking": 1},
            {"id": w["day2"].pk, "date": "2030-05-07", "ranking": 2},
        ],
        **changes,
    }


class TestIfMatch:
    def test_a_calendar_put_with_the_current_tag_goes_through_and_answers_the_new_one(self, w):
        client = client_for(w["u"]["alice"])
        path = f"/calendars/{w['cal'].pk}/"
        etag = client.get(path)["ETag"]
        response = client.put(path, calendar_put(w, title="Renamed"), format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag
        assert response["ETag"] == client.get(path)["ETag"]

    def test_a_stale_tag_is_a_412_and_changes_nothing(self, w):
        client = client_for(w["u"]["alice"])
        path = f"/calendars/{w['cal'].pk}/"
        etag = client.get(path)["ETag"]
        add_slot(w)  # someone else's write in between
        before = client.get(path).content
        response = client.put(path, calendar_put(w, title="Lost update"), format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 412
        assert set(response.json()) == {"detail"}
        assert client.get(path).content == before
        assert Calendar.objects.get(pk=w["cal"].pk).title == "Board"

    @pytest.mark.parametrize("header", ["*", None])
    def test_star_or_no_header_goes_through(self, w, header):
        extra = {} if header is None else {"HTTP_IF_MATCH": header}
        response = client_for(w["u"]["alice"]).put(
            f"/calendars/{w['cal'].pk}/", calendar_put(w), format="json", **extra
        )
        assert response.status_code == 200

    def test_a_weak_tag_never_matches(self, w):
        client = client_for(w["u"]["alice"])
        path = f"/calendars/{w['cal'].pk}/"
        etag = client.get(path)["ETag"]
        assert client.put(path, calendar_put(w), format="json", HTTP_IF_MATCH=f"W/{etag}").status_code == 412
        assert client.put(path, calendar_put(w), format="json", HTTP_IF_MATCH=f'"x", {etag}').status_code == 200

    def test_another_users_tag_is_stale(self, w):
        path = f"/calendars/{w['cal'].pk}/"
        bobs = client_for(w["u"]["bob"]).get(path)["ETag"]
        response = client_for(w["u"]["alice"]).put(path, calendar_put(w), format="json", HTTP_IF_MATCH=bobs)
        assert response.status_code == 412

    def test_a_bad_body_is_a_400_before_the_precondition(self, w):
        path = f"/calendars/{w['cal'].pk}/"
        response = client_for(w["u"]["alice"]).put(path, {"title": ""}, format="json", HTTP_IF_MATCH='"stale"')
        assert response.status_code == 400

    def test_a_timeslot_put(self, w):
        client = client_for(w["u"]["bob"])
        path = f"/calendars/{w['cal'].pk}/day/{w['day1'].pk}/timeslot/{w['slots']['bob'].pk}/"
        etag = client.get(path)["ETag"]
        body = {"start_time": "10:00", "end_time": "11:30"}
        moved = client.put(path, body, format="json", HTTP_IF_MATCH=etag)
        assert moved.status_code == 200
        assert moved["ETag"] == client.get(path)["ETag"] != etag
        again = client.put(path, {"start_time": "07:00", "end_time": "08:00"}, format="json", HTTP_IF_MATCH=etag)
        assert again.status_code == 412
        assert TimeSlot.objects.get(pk=w["slots"]["bob"].pk).end_time == t(11, 30)

    def test_a_slots_tag_ignores_the_other_slots(self, w):
        """Lost-update protection for one slot: another member's slot on the same day is not a conflict."""
        client = client_for(w["u"]["bob"])
        path = f"/calendars/{w['cal'].pk}/day/{w['day1'].pk}/timeslot/{w['slots']['bob'].pk}/"
        etag = client.get(path)["ETag"]
        move_slot(w)  # cat's slot
        response = client.put(path, {"start_time": "10:00", "end_time": "11:30"}, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_with_the_same_tag_one_wins_one_gets_412(w):
    path = f"/calendars/{w['cal'].pk}/"
    etag = client_for(w["u"]["alice"]).get(path)["ETag"]
    barrier = threading.Barrier(2)
    statuses = []

    def put(title):
        try:
            client = client_for(w["u"]["alice"])
            barrier.wait()
            statuses.append(
                client.put(path, calendar_put(w, title=title), format="json", HTTP_IF_MATCH=etag).status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=put, args=(title,)) for title in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    assert Calendar.objects.get(pk=w["cal"].pk).title in {"One", "Two"}


def test_versions_only_grow(w):
    cal = w["cal"]
    versions = [Calendar.objects.get(pk=cal.pk).version]
    for write in (add_slot, move_slot, rename_calendar, finalize_then_undo, revoke):
        write(w)
        versions.append(Calendar.objects.get(pk=cal.pk).version)
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert Day.objects.filter(calendar=cal).exists()
    assert Invitation.objects.filter(calendar=cal).exists()
    assert Contact.objects.exists()


@pytest.mark.parametrize(
    ("write", "changes"),
    [
        (add_slot, 1),
        (move_slot, 1),
        (whole_day, 1),
        (rename_calendar, 1),
        (edit_day, 1),
        (finalize, 1),
        (finalize_then_undo, 2),
        (revoke, 1),
        (invite, 1),
        (delete_account, 1),
        (delete_account_in_the_admin, 1),
        (rename_user, 1),
    ],
)
def test_each_change_counts_one(w, write, changes):
    """A calendar's version is one more with every change (calendars.versions): counted once, never twice."""
    cal = w["cal"]
    before = Calendar.objects.get(pk=cal.pk).version
    write(w)
    assert Calendar.objects.get(pk=cal.pk).version == before + changes
