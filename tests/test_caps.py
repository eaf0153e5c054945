"""Caps on every collection one user can grow (OWASP API4), pinned at exactly the cap and one past it.

Calendars per user, timeslots per person per calendar, invitations per calendar, friend requests waiting
for an answer per user. Each answers 400 with a clear message at the cap (the API's answer for every
bound; docs/security.md, "Limits"). A cap is a count, which no database constraint can hold: each is
counted under the row lock every write that adds to it takes first, and the races below (real threads,
on PostgreSQL and on SQLite) show that parallel requests cannot pass it together.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.contrib.auth import get_user_model

from calendars import services as calendar_services
from calendars.models import (
    MAX_CALENDARS_PER_USER,
    MAX_INVITATIONS_PER_CALENDAR,
    MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR,
    MAX_TIMESLOTS_PER_OWNER_PER_DAY,
    Calendar,
    Day,
    Invitation,
    TimeSlot,
)
from contacts import services as contact_services
from contacts.models import MAX_PENDING_REQUESTS_PER_USER, Contact, ContactStatus
from invitations import services as invitation_services
from tests.conftest import client_for
from tests.factories import CalendarFactory, ContactFactory, InvitationFactory, UserFactory, make_friends
from tests.support import run_together

START = datetime.date(2030, 1, 1)
TOO_MANY_CALENDARS = "You already have 500 calendars, the most allowed; delete one to create another."
TOO_MANY_INVITATIONS = "This calendar already has 100 invitations, the most allowed; revoke one to invite someone else."
TOO_MANY_REQUESTS = (
    "You already have 100 friend requests waiting for an answer, the most allowed; "
    "cancel one (POST /contacts/unadd/) to send another."
)
TOO_MANY_CALENDAR_SLOTS = {"days": {"non_field_errors": ["At most 500 timeslots per person per calendar."]}}


def test_the_caps():
    assert (MAX_CALENDARS_PER_USER, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR) == (500, 500)
    assert (MAX_INVITATIONS_PER_CALENDAR, MAX_PENDING_REQUESTS_PER_USER) == (100, 100)
    assert MAX_TIMESLOTS_PER_OWNER_PER_DAY == 48


def users(count: int, prefix: str) -> list:
    model = get_user_model()
    return model.objects.bulk_create(
        [model(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com") for i in range(count)]
    )


def calendars_of(user, count: int) -> None:
    Calendar.objects.bulk_create([Calendar(creator=user, title=f"Old {i}") for i in range(count)])


def slot_times(count: int) -> list[tuple[datetime.time, datetime.time]]:
    """`count` (at most 48) non-overlapping 10-minute slots, one every half hour from midnight."""
    return [(datetime.time(i // 2, 30 * (i % 2)), datetime.time(i // 2, 30 * (i % 2) + 10)) for i in range(count)]


def slot_bodies(count: int) -> list[dict]:
    return [{"start_time": f"{s:%H:%M}", "end_time": f"{e:%H:%M}"} for s, e in slot_times(count)]


def calendar_with_slots(owner, count: int, *, creator=None, days: int = 12) -> tuple[Calendar, list[Day]]:
    """A calendar of `days` days on which `owner` has `count` slots, the first days full (48 each)."""
    creator = creator or owner
    calendar = CalendarFactory(creator=creator)
    made = Day.objects.bulk_create(
        [Day(calendar=calendar, date=START + datetime.timedelta(days=i), ranking=i + 1) for i in range(days)]
    )
    rows = []
    for day in made:
        take = min(count - len(rows), MAX_TIMESLOTS_PER_OWNER_PER_DAY)
        rows += [TimeSlot(day=day, owner=owner, start_time=s, end_time=e) for s, e in slot_times(take)]
    TimeSlot.objects.bulk_create(rows)
    assert TimeSlot.objects.filter(day__calendar=calendar, owner=owner).count() == count
    return calendar, made


def slots_url(day: Day) -> str:
    return f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/"


def free_day(calendar: Calendar, owner) -> Day:
    """A day of the calendar on which `owner` has no slot."""
    return Day.objects.filter(calendar=calendar).exclude(timeslots__owner=owner).order_by("date").first()


def new_calendar(title: str = "New") -> dict:
    return {"title": title, "days": [{"date": "2030-01-01", "ranking": 1}]}


# Calendars per user -------------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestCalendarsPerUser:
    def test_the_500th_is_created_the_501st_refused(self, auth_client, user):
        calendars_of(user, MAX_CALENDARS_PER_USER - 1)
        assert auth_client.post("/calendars/", new_calendar(), format="json").status_code == 201
        response = auth_client.post("/calendars/", new_calendar(), format="json")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [TOO_MANY_CALENDARS]}
        assert Calendar.objects.filter(creator=user).count() == MAX_CALENDARS_PER_USER

    def test_deleting_one_makes_room(self, auth_client, user):
        calendars_of(user, MAX_CALENDARS_PER_USER)
        assert auth_client.post("/calendars/", new_calendar(), format="json").status_code == 400
        oldest = Calendar.objects.filter(creator=user).order_by("id").first()
        assert auth_client.delete(f"/calendars/{oldest.pk}/").status_code == 204
        assert auth_client.post("/calendars/", new_calendar(), format="json").status_code == 201

    def test_calendars_i_take_part_in_do_not_count(self, auth_client, user, other_user):
        calendars_of(other_user, MAX_CALENDARS_PER_USER)
        for calendar in Calendar.objects.filter(creator=other_user)[:3]:
            InvitationFactory(calendar=calendar, invitee=user, status="accepted")
        assert auth_client.post("/calendars/", new_calendar(), format="json").status_code == 201


# Timeslots per person per calendar ----------------------------------------------------------------------------


@pytest.mark.django_db
class TestTimeslotsPerCalendar:
    def test_create_with_500_slots_but_not_501(self, auth_client):
        full = [{"date": (START + datetime.timedelta(days=i)).isoformat(), "ranking": i + 1} for i in range(11)]
        for day in full[:10]:
            day["timeslots"] = slot_bodies(48)
        full[10]["timeslots"] = slot_bodies(20)
        assert sum(len(d["timeslots"]) for d in full) == MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR
        assert auth_client.post("/calendars/", {"title": "Full", "days": full}, format="json").status_code == 201
        full[10]["timeslots"] = slot_bodies(21)
        response = auth_client.post("/calendars/", {"title": "Over", "days": full}, format="json")
        assert response.status_code == 400
        assert response.json() == TOO_MANY_CALENDAR_SLOTS

    def test_one_slot_up_to_the_cap(self, auth_client, user):
        calendar, _ = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR - 1)
        day = free_day(calendar, user)
        ok = auth_client.post(slots_url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert ok.status_code == 201
        response = auth_client.post(slots_url(day), {"start_time": "11:00", "end_time": "12:00"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["You already have 500 timeslots on this calendar, the most allowed."]
        }
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500

    def test_a_participant_has_the_same_cap(self, user, other_user):
        calendar, _ = calendar_with_slots(other_user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR, creator=user)
        InvitationFactory(calendar=calendar, invitee=other_user, status="accepted")
        day = free_day(calendar, other_user)
        response = client_for(other_user).post(slots_url(day), {"start_time": "09:00", "end_time": "10:00"})
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["You already have 500 timeslots on this calendar, the most allowed."]
        }
        # The creator's own count is theirs: still room.
        assert client_for(user).post(slots_url(day), {"start_time": "09:00", "end_time": "10:00"}).status_code == 201

    def test_an_array_up_to_the_cap(self, auth_client, user):
        calendar, _ = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR - 10)
        day = free_day(calendar, user)
        response = auth_client.post(slots_url(day), slot_bodies(11), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": [
                "You already have 490 timeslots on this calendar; 11 more would pass 500, the most allowed."
            ]
        }
        assert auth_client.post(slots_url(day), slot_bodies(10), format="json").status_code == 201
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500

    def test_saving_a_whole_day_up_to_the_cap(self, auth_client, user):
        calendar, _ = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR)
        last = Day.objects.filter(calendar=calendar, timeslots__owner=user).order_by("-date").first()
        on_last = TimeSlot.objects.filter(day=last, owner=user).count()  # 20: 10 days of 48, then 20
        assert on_last == 20
        # As many slots (other times) or fewer: the count does not grow.
        same = [{"start_time": f"{s:%H:%M}", "end_time": f"{e:%H:%M}"} for s, e in slot_times(40)[20:]]
        assert auth_client.put(slots_url(last), same, format="json").status_code == 200
        assert auth_client.put(slots_url(last), same[:5], format="json").status_code == 200
        # Back to 500, then one more.
        assert auth_client.put(slots_url(last), slot_bodies(20), format="json").status_code == 200
        response = auth_client.put(slots_url(last), slot_bodies(21), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["These timeslots would give you 501 on this calendar; 500 is the most allowed."]
        }
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500

    def test_slots_on_my_other_calendars_do_not_count(self, auth_client, user):
        calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR)
        fresh = CalendarFactory(creator=user)
        day = Day.objects.create(calendar=fresh, date=START, ranking=1)
        response = auth_client.post(slots_url(day), {"start_time": "09:00", "end_time": "10:00"}, format="json")
        assert response.status_code == 201
        assert TimeSlot.objects.filter(owner=user).count() == MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR + 1

    def test_over_the_cap_already_a_whole_day_may_keep_its_count(self, auth_client, user):
        # Over the cap by rows written before it (or by the admin): saving a day without growing is no harm.
        calendar, _ = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR + 2)
        last = Day.objects.filter(calendar=calendar, timeslots__owner=user).order_by("-date").first()
        on_last = TimeSlot.objects.filter(day=last, owner=user).count()
        other_times = [{"start_time": f"{s:%H:%M}", "end_time": f"{e:%H:%M}"} for s, e in slot_times(48)[-on_last:]]
        assert auth_client.put(slots_url(last), other_times, format="json").status_code == 200
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 502
        response = auth_client.put(slots_url(last), other_times + slot_bodies(1), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["These timeslots would give you 503 on this calendar; 500 is the most allowed."]
        }

    def test_others_slots_on_the_day_make_no_room(self, auth_client, user, other_user):
        calendar, _ = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR)
        InvitationFactory(calendar=calendar, invitee=other_user, status="accepted")
        last = Day.objects.filter(calendar=calendar, timeslots__owner=user).order_by("-date").first()
        TimeSlot.objects.bulk_create(
            [TimeSlot(day=last, owner=other_user, start_time=s, end_time=e) for s, e in slot_times(40)]
        )
        response = auth_client.put(slots_url(last), slot_bodies(21), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["These timeslots would give you 501 on this calendar; 500 is the most allowed."]
        }
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500
        assert TimeSlot.objects.filter(day=last, owner=other_user).count() == 40

    def test_editing_the_calendar_cannot_pass_the_cap(self, auth_client, user):
        calendar, days = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR - 1, days=11)
        kept = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in days]
        new_day = {"date": "2030-03-01", "ranking": 99, "timeslots": slot_bodies(2)}
        body = {"title": "More", "days": [*kept, new_day]}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == TOO_MANY_CALENDAR_SLOTS
        new_day["timeslots"] = slot_bodies(1)
        assert auth_client.put(f"/calendars/{calendar.pk}/", body, format="json").status_code == 200
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500
        # Dropping a full day (48 slots) makes room for a new day with 48.
        now = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in calendar.days.order_by("date")]
        body = {
            "title": "Swap",
            "days": [*now[1:], {"date": "2030-03-02", "ranking": 98, "timeslots": slot_bodies(48)}],
        }
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 200
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500

    def test_slots_sent_with_a_kept_day_are_not_counted_or_added(self, auth_client, user):
        # A day kept (sent with its id) keeps its own slots; slots sent along with it are not new ones.
        calendar, days = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR - 1, days=11)
        kept = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in days]
        kept[0]["timeslots"] = slot_bodies(2)
        response = auth_client.put(f"/calendars/{calendar.pk}/", {"title": "Kept", "days": kept}, format="json")
        assert response.status_code == 200
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 499

    def test_an_edit_counts_only_the_creators_slots_on_this_calendar(self, auth_client, user, other_user):
        calendar, days = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR - 1, days=11)
        calendar_with_slots(user, 48, days=1)  # the creator's slots on another calendar
        TimeSlot.objects.bulk_create(  # a participant's slots on a day kept
            [TimeSlot(day=days[-1], owner=other_user, start_time=s, end_time=e) for s, e in slot_times(30)]
        )
        kept = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in days]
        new_day = {"date": "2030-03-01", "ranking": 99, "timeslots": slot_bodies(2)}
        body = {"title": "More", "days": [*kept, new_day]}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == TOO_MANY_CALENDAR_SLOTS
        new_day["timeslots"] = slot_bodies(1)
        assert auth_client.put(f"/calendars/{calendar.pk}/", body, format="json").status_code == 200
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 500

    def test_an_edit_over_the_cap_already_may_keep_the_count(self, auth_client, user):
        # More than the cap (slots saved before it existed): an edit that does not grow the count passes.
        calendar, days = calendar_with_slots(user, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR + 2, days=11)
        kept = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in days[1:]]
        new_days = [
            {"date": "2030-03-01", "ranking": 99, "timeslots": slot_bodies(48)},  # the 48 of the day dropped
            {"date": "2030-03-02", "ranking": 98, "timeslots": slot_bodies(1)},
        ]
        body = {"title": "Swap", "days": [*kept, *new_days]}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == TOO_MANY_CALENDAR_SLOTS
        body["days"] = [*kept, new_days[0]]
        assert auth_client.put(f"/calendars/{calendar.pk}/", body, format="json").status_code == 200
        assert TimeSlot.objects.filter(day__calendar=calendar, owner=user).count() == 502


# Invitations per calendar -------------------------------------------------------------------------------------


@pytest.fixture
def crowded(user):
    """A calendar of `user` with 99 invitations (every state), and two friends not invited yet."""
    calendar = CalendarFactory(creator=user)
    Day.objects.create(calendar=calendar, date=START, ranking=1)
    statuses = ["pending", "accepted", "rejected"]
    Invitation.objects.bulk_create(
        [
            Invitation(calendar=calendar, invitee=invitee, inviter=user, status=statuses[i % 3])
            for i, invitee in enumerate(users(MAX_INVITATIONS_PER_CALENDAR - 1, "guest"))
        ]
    )
    friends = [UserFactory(username="dan"), UserFactory(username="eve")]
    for friend in friends:
        make_friends(user, friend)
    return calendar, friends


def invite(client, calendar, username):
    return client.post(f"/calendars/{calendar.pk}/invitations/", {"invitee_username": username}, format="json")


@pytest.mark.django_db
class TestInvitationsPerCalendar:
    def test_the_100th_is_sent_the_101st_refused(self, auth_client, crowded):
        calendar, _friends = crowded
        assert invite(auth_client, calendar, "dan").status_code == 201
        response = invite(auth_client, calendar, "eve")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [TOO_MANY_INVITATIONS]}
        assert Invitation.objects.filter(calendar=calendar).count() == MAX_INVITATIONS_PER_CALENDAR

    def test_inviting_again_who_declined_needs_no_room(self, auth_client, crowded):
        calendar, (dan, _eve) = crowded
        Invitation.objects.create(calendar=calendar, invitee=dan, inviter=calendar.creator, status="rejected")
        assert invite(auth_client, calendar, "dan").status_code == 201
        assert Invitation.objects.get(calendar=calendar, invitee=dan).status == "pending"

    def test_revoking_one_makes_room(self, auth_client, crowded):
        calendar, _friends = crowded
        assert invite(auth_client, calendar, "dan").status_code == 201
        assert invite(auth_client, calendar, "eve").status_code == 400
        gone = Invitation.objects.filter(calendar=calendar, status="rejected").first()
        assert auth_client.delete(f"/calendars/{calendar.pk}/invitations/{gone.pk}/").status_code == 204
        assert invite(auth_client, calendar, "eve").status_code == 201

    def test_other_refusals_come_first(self, auth_client, crowded):
        calendar, _friends = crowded
        assert invite(auth_client, calendar, "dan").status_code == 201
        response = invite(auth_client, calendar, "dan")  # already invited: that is the answer, not the cap
        assert response.status_code == 409
        assert response.json() == {"detail": "dan is already invited to this calendar."}


# Friend requests waiting for an answer ------------------------------------------------------------------------


@pytest.fixture
def asker(user):
    """`user` with 99 requests nobody answered yet, and relations of every other kind (which do not count)."""
    Contact.objects.bulk_create(
        [Contact(userA=user, userB=other, status=ContactStatus.PENDING) for other in users(99, "asked")]
    )
    for status, prefix in [(ContactStatus.FRIENDS, "friend"), (ContactStatus.BLOCKED, "blocked")]:
        Contact.objects.bulk_create([Contact(userA=user, userB=other, status=status) for other in users(5, prefix)])
    Contact.objects.bulk_create(
        [Contact(userA=other, userB=user, status=ContactStatus.PENDING) for other in users(5, "asking")]
    )
    return user


def add(client, username):
    return client.post("/contacts/add/", {"username": username}, format="json")


@pytest.mark.django_db
class TestPendingRequestsPerUser:
    def test_the_100th_is_sent_the_101st_refused(self, auth_client, asker):
        UserFactory(username="zed")
        UserFactory(username="yan")
        assert add(auth_client, "zed").status_code == 200
        response = add(auth_client, "yan")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [TOO_MANY_REQUESTS]}
        assert Contact.objects.filter(userA=asker, status=ContactStatus.PENDING).count() == 100

    def test_every_way_of_sending_a_request_is_capped(self, auth_client, asker):
        yan, _zed, xia = (UserFactory(username=name) for name in ("yan", "zed", "xia"))
        declined = ContactFactory(userA=yan, userB=asker, status=ContactStatus.REJECTED)  # I declined yan
        assert add(auth_client, "zed").status_code == 200
        response = auth_client.post("/contacts/", {"userB": xia.pk}, format="json")
        assert (response.status_code, response.json()) == (400, {"non_field_errors": [TOO_MANY_REQUESTS]})
        # Asking back someone I declined is a new request too, by the action or by the relation's status.
        assert add(auth_client, "yan").json() == {"non_field_errors": [TOO_MANY_REQUESTS]}
        response = auth_client.patch(f"/contacts/{declined.pk}/", {"status": ContactStatus.PENDING}, format="json")
        assert (response.status_code, response.json()) == (400, {"non_field_errors": [TOO_MANY_REQUESTS]})

    def test_the_state_machine_answers_first(self, auth_client, asker):
        UserFactory(username="zed")
        assert add(auth_client, "zed").status_code == 200
        response = add(auth_client, "asking0")  # they asked me: accept it (409), whatever my own requests
        assert response.status_code == 409
        assert response.json() == {"detail": "asking0 already sent you a request; accept it."}
        assert auth_client.post("/contacts/accept/", {"username": "asking0"}, format="json").status_code == 200
        # Blocking is never capped.
        assert auth_client.post("/contacts/block/", {"username": "asked0"}, format="json").status_code == 200

    def test_an_answer_or_a_cancel_makes_room(self, auth_client, asker):
        for name in ("zed", "yan", "xia"):
            UserFactory(username=name)
        assert add(auth_client, "zed").status_code == 200
        assert add(auth_client, "yan").status_code == 400
        assert (
            client_for(get_user_model().objects.get(username="asked0"))
            .post("/contacts/accept/", {"username": asker.username}, format="json")
            .status_code
            == 200
        )
        assert add(auth_client, "yan").status_code == 200
        assert add(auth_client, "zed").status_code == 409  # already sent
        assert auth_client.post("/contacts/unadd/", {"username": "asked1"}, format="json").status_code == 200
        assert add(auth_client, "xia").status_code == 200


# Races: the caps hold under parallel requests (PostgreSQL, and SQLite in a file) -------------------------------

RACERS = 4


def slowed(monkeypatch, module, name: str) -> None:
    """Widen the window between a cap's count and the write: without the lock, every racer would pass."""
    original = getattr(module, name)

    def slow(*args, **kwargs):
        original(*args, **kwargs)
        time.sleep(0.2)

    monkeypatch.setattr(module, name, slow)


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_calendar_creates_stop_at_the_cap(monkeypatch):
    slowed(monkeypatch, calendar_services, "_check_calendar_room")
    owner = UserFactory(username="owner")
    calendars_of(owner, MAX_CALENDARS_PER_USER - 2)
    clients = [client_for(owner) for _ in range(RACERS)]
    responses = run_together(*(lambda c=c: c.post("/calendars/", new_calendar(), format="json") for c in clients))
    assert statuses(responses) == [201, 201, 400, 400]
    assert all(r.json() == {"non_field_errors": [TOO_MANY_CALENDARS]} for r in responses if r.status_code == 400)
    assert Calendar.objects.filter(creator=owner).count() == MAX_CALENDARS_PER_USER


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_slots_on_different_days_stop_at_the_calendar_cap(monkeypatch):
    """Each request locks another day; the calendar's lock is what holds the per-calendar count."""
    slowed(monkeypatch, calendar_services, "_check_slot_room")
    owner = UserFactory(username="owner")
    calendar, _ = calendar_with_slots(owner, MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR - 2, days=11 + RACERS)
    free = list(Day.objects.filter(calendar=calendar).exclude(timeslots__owner=owner).order_by("date"))[:RACERS]
    clients = [client_for(owner) for _ in range(RACERS)]
    body = {"start_time": "09:00", "end_time": "10:00"}
    responses = run_together(
        *(lambda c=c, d=d: c.post(slots_url(d), body, format="json") for c, d in zip(clients, free, strict=True))
    )
    assert statuses(responses) == [201, 201, 400, 400]
    assert TimeSlot.objects.filter(day__calendar=calendar, owner=owner).count() == MAX_TIMESLOTS_PER_OWNER_PER_CALENDAR


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_invitations_stop_at_the_cap(monkeypatch):
    slowed(monkeypatch, invitation_services, "_check_invitation_room")
    owner = UserFactory(username="owner")
    calendar = CalendarFactory(creator=owner)
    Invitation.objects.bulk_create(
        [Invitation(calendar=calendar, invitee=u, inviter=owner) for u in users(MAX_INVITATIONS_PER_CALENDAR - 2, "g")]
    )
    friends = [UserFactory(username=f"friend{i}") for i in range(RACERS)]
    for friend in friends:
        make_friends(owner, friend)
    clients = [client_for(owner) for _ in range(RACERS)]
    responses = run_together(
        *(lambda c=c, f=f: invite(c, calendar, f.username) for c, f in zip(clients, friends, strict=True))
    )
    assert statuses(responses) == [201, 201, 400, 400]
    assert all(r.json() == {"non_field_errors": [TOO_MANY_INVITATIONS]} for r in responses if r.status_code == 400)
    assert Invitation.objects.filter(calendar=calendar).count() == MAX_INVITATIONS_PER_CALENDAR


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_friend_requests_stop_at_the_cap(monkeypatch):
    slowed(monkeypatch, contact_services, "_check_request_room")
    owner = UserFactory(username="owner")
    Contact.objects.bulk_create(
        [Contact(userA=owner, userB=u) for u in users(MAX_PENDING_REQUESTS_PER_USER - 2, "asked")]
    )
    others = [UserFactory(username=f"other{i}") for i in range(RACERS)]
    clients = [client_for(owner) for _ in range(RACERS)]
    responses = run_together(*(lambda c=c, o=o: add(c, o.username) for c, o in zip(clients, others, strict=True)))
    assert statuses(responses) == [200, 200, 400, 400]
    assert all(r.json() == {"non_field_errors": [TOO_MANY_REQUESTS]} for r in responses if r.status_code == 400)
    assert Contact.objects.filter(userA=owner, status=ContactStatus.PENDING).count() == MAX_PENDING_REQUESTS_PER_USER
