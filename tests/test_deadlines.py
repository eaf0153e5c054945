"""A response deadline, the answers summary, and the notices that close the loop (calendars.notices).

The clock is moved with time-machine; the notices are tasks run here by `run_tasks()`, as the worker would.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django_tasks_db.models import DBTaskResult

from calendars import notices as notices_module
from calendars.models import Calendar, Invitation
from calendars.tasks import check_answers
from delivery.models import Email
from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory, make_friends

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2030, 4, 1, 12, 0, tzinfo=datetime.UTC)
DEADLINE = "2030-04-03T18:00:00+02:00"  # 16:00 UTC
DEADLINE_UTC = "2030-04-03T16:00:00Z"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(db):
    names = ["alice", "bob", "carol", "dave", "erin", "fay"]
    users = {name: UserFactory(username=name) for name in names}
    for name in names[1:]:
        make_friends(users["alice"], users[name])
    return users


def new_calendar(client, **extra):
    body = {"title": "Offsite", "timezone": "Europe/Berlin", "days": [{"date": "2030-05-06", "ranking": 1}], **extra}
    return client.post("/calendars/", body, format="json")


def passed(clock, hours: float = 53) -> None:
    """Move the clock on (by default past DEADLINE: from 1 April 12:00 to 3 April 17:00 UTC)."""
    clock.shift(datetime.timedelta(hours=hours))


@pytest.fixture
def planned(people):
    """alice's calendar with a deadline: bob and carol accepted, dave pending, erin declined."""
    alice = client_for(people["alice"])
    response = new_calendar(alice, respond_by=DEADLINE)
    assert response.status_code == 201
    calendar = Calendar.objects.get(pk=response.json()["id"])
    day = calendar.days.get()
    for name, status in [("bob", "accepted"), ("carol", "accepted"), ("dave", "pending"), ("erin", "rejected")]:
        InvitationFactory(calendar=calendar, invitee=people[name], status=status)
    TimeSlotFactory(day=day, owner=people["alice"], start_time=datetime.time(9), end_time=datetime.time(12))
    TimeSlotFactory(day=day, owner=people["bob"], start_time=datetime.time(10), end_time=datetime.time(12))
    return calendar


class TestRespondBy:
    def test_set_at_creation_and_shown_in_utc(self, people):
        response = new_calendar(client_for(people["alice"]), respond_by=DEADLINE)
        assert response.status_code == 201
        assert response.json()["respond_by"] == DEADLINE_UTC
        calendar = Calendar.objects.get()
        assert calendar.respond_by == datetime.datetime(2030, 4, 3, 16, tzinfo=datetime.UTC)
        body = client_for(people["alice"]).get(f"/calendars/{calendar.pk}/").json()
        assert body["respond_by"] == DEADLINE_UTC

    def test_none_by_default(self, people):
        response = new_calendar(client_for(people["alice"]))
        assert response.json()["respond_by"] is None

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("2030-04-01T11:59:59Z", "The deadline must lie in the future."),
            ("2030-04-01T12:00:00Z", "The deadline must lie in the future."),
            ("2030-04-03T18:00:00", "Give the deadline with its UTC offset, e.g. 2030-01-01T12:00:00+01:00."),
        ],
    )
    def test_in_the_future_and_with_an_offset(self, people, value, message):
        response = new_calendar(client_for(people["alice"]), respond_by=value)
        assert (response.status_code, response.json()) == (400, {"respond_by": [message]})

    def test_not_a_date_time(self, people):
        response = new_calendar(client_for(people["alice"]), respond_by="next tuesday")
        assert response.status_code == 400
        assert list(response.json()) == ["respond_by"]

    def edit(self, client, calendar, **changes):
        days = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in calendar.days.all()]
        return client.put(
            f"/calendars/{calendar.pk}/", {"title": calendar.title, "days": days, **changes}, format="json"
        )

    def test_the_creator_moves_clears_and_keeps_it(self, planned, people, clock):
        alice = client_for(people["alice"])
        assert (
            self.edit(alice, planned, respond_by="2030-04-10T09:00:00Z").json()["respond_by"] == "2030-04-10T09:00:00Z"
        )
        assert self.edit(alice, planned).json()["respond_by"] == "2030-04-10T09:00:00Z"  # left out: unchanged
        passed(clock, 24 * 30)
        alice = client_for(people["alice"])  # a fresh token, a month later
        # Passed: sending it unchanged is fine, moving it into the past is not, clearing is.
        assert self.edit(alice, planned, respond_by="2030-04-10T09:00:00Z").status_code == 200
        moved_back = self.edit(alice, planned, respond_by="2030-04-20T09:00:00Z")
        assert (moved_back.status_code, moved_back.json()) == (
            400,
            {"respond_by": ["The deadline must lie in the future."]},
        )
        assert self.edit(alice, planned, respond_by=None).json()["respond_by"] is None
        assert Calendar.objects.get().respond_by is None

    def test_only_the_creator_edits_it(self, planned, people):
        response = self.edit(client_for(people["bob"]), planned, respond_by=None)
        assert response.status_code == 403


class TestAfterTheDeadline:
    def test_invitees_cannot_answer(self, planned, people, clock):
        passed(clock)
        invitation = Invitation.objects.get(invitee=people["dave"])
        url = f"/calendars/{planned.pk}/invitations/{invitation.pk}/"
        response = client_for(people["dave"]).put(url, {"status": "accepted"}, format="json")
        assert response.status_code == 409
        assert response.json() == {
            "detail": "The deadline to respond passed (2030-04-03T16:00:00+00:00): answers cannot change any more. "
            f"alice (the creator) can extend it with PUT /calendars/{planned.pk}/."
        }
        assert Invitation.objects.get(pk=invitation.pk).status == "pending"

    def test_participants_cannot_touch_their_slots(self, planned, people, clock):
        passed(clock)
        bob = client_for(people["bob"])
        day = planned.days.get()
        base = f"/calendars/{planned.pk}/day/{day.pk}/timeslot/"
        slot = day.timeslots.get(owner=people["bob"])
        attempts = [
            bob.post(base, {"start_time": "13:00", "end_time": "14:00"}, format="json"),
            bob.post(base, [{"start_time": "13:00", "end_time": "14:00"}], format="json"),
            bob.put(base, [], format="json"),
            bob.put(f"{base}{slot.pk}/", {"start_time": "10:00", "end_time": "11:00"}, format="json"),
            bob.delete(f"{base}{slot.pk}/"),
        ]
        assert [r.status_code for r in attempts] == [409] * 5
        refused = {
            "detail": "The deadline to respond passed (2030-04-03T16:00:00+00:00): timeslots cannot change any "
            f"more. alice (the creator) can extend it with PUT /calendars/{planned.pk}/."
        }
        assert [r.json() for r in attempts] == [refused] * 5
        assert day.timeslots.filter(owner=people["bob"]).count() == 1

    def test_the_creator_keeps_every_right(self, planned, people, clock):
        passed(clock)
        alice = client_for(people["alice"])
        day = planned.days.get()
        response = alice.post(
            f"/calendars/{planned.pk}/day/{day.pk}/timeslot/",
            {"start_time": "14:00", "end_time": "15:00"},
            format="json",
        )
        assert response.status_code == 201
        invite = alice.post(f"/calendars/{planned.pk}/invitations/", {"invitee_username": "fay"}, format="json")
        assert invite.status_code == 201
        finalize = alice.post(
            f"/calendars/{planned.pk}/finalize/",
            {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:00"},
            format="json",
        )
        assert finalize.status_code == 200
        assert alice.delete(f"/calendars/{planned.pk}/finalize/").status_code == 200
        # Her own slot too: moved, then deleted.
        mine = day.timeslots.get(owner=people["alice"], start_time=datetime.time(14))
        moved = alice.put(
            f"/calendars/{planned.pk}/day/{day.pk}/timeslot/{mine.pk}/",
            {"start_time": "15:00", "end_time": "16:00"},
            format="json",
        )
        assert moved.status_code == 200
        assert alice.delete(f"/calendars/{planned.pk}/day/{day.pk}/timeslot/{mine.pk}/").status_code == 204
        assert not day.timeslots.filter(pk=mine.pk).exists()

    def test_before_the_deadline_everything_works(self, planned, people, clock):
        passed(clock, 51)  # 15:00 UTC on the 3rd: an hour to go
        invitation = Invitation.objects.get(invitee=people["dave"])
        url = f"/calendars/{planned.pk}/invitations/{invitation.pk}/"
        assert client_for(people["dave"]).put(url, {"status": "accepted"}, format="json").status_code == 204


class TestResponses:
    def test_the_summary_of_the_issue(self, planned, people):
        InvitationFactory(calendar=planned, invitee=people["fay"], status="accepted")
        TimeSlotFactory(
            day=planned.days.get(), owner=people["fay"], start_time=datetime.time(15), end_time=datetime.time(16)
        )
        body = client_for(people["alice"]).get(f"/calendars/{planned.pk}/").json()
        # invited 5: bob, carol, fay accepted; dave pending; erin declined. alice, bob and fay marked slots.
        assert body["responses"] == {"invited": 5, "accepted": 3, "pending": 1, "rejected": 1, "with_availability": 3}

    def test_a_pending_invitees_slot_does_not_count(self, planned, people):
        # A slot left behind by someone who is not a member (here: pending) is not an answer.
        TimeSlotFactory(
            day=planned.days.get(), owner=people["dave"], start_time=datetime.time(8), end_time=datetime.time(9)
        )
        body = client_for(people["alice"]).get("/calendars/").json()["results"][0]
        assert body["responses"]["with_availability"] == 2

    @pytest.mark.parametrize("count", [1, 15])
    def test_the_list_spends_no_query_per_calendar(self, people, count, django_assert_num_queries):
        for i in range(count):
            calendar = CalendarFactory(creator=people["alice"], respond_by=NOW + datetime.timedelta(days=i + 1))
            day = DayFactory(calendar=calendar)
            InvitationFactory(calendar=calendar, invitee=people["bob"], status="accepted")
            InvitationFactory(calendar=calendar, invitee=people["carol"], status="pending")
            TimeSlotFactory(day=day, owner=people["bob"])
        client = client_for(people["alice"])
        with django_assert_num_queries(4):
            body = client.get("/calendars/", {"page_size": 100}).json()
        assert {r["responses"]["with_availability"] for r in body["results"]} == {1}
        assert {r["responses"]["pending"] for r in body["results"]} == {1}


def notices(kind: str) -> list:
    run_tasks()
    sent = [m for m in mail.outbox if Email.objects.filter(kind=kind, to=m.to[0], subject=m.subject).exists()]
    return sent


class TestEveryoneHasAnswered:
    def answer(self, people, calendar, name, status):
        invitation = Invitation.objects.get(calendar=calendar, invitee=people[name])
        url = f"/calendars/{calendar.pk}/invitations/{invitation.pk}/"
        return client_for(people[name]).put(url, {"status": status}, format="json")

    def slot(self, people, calendar, name, start="10:00", end="11:00"):
        day = calendar.days.get()
        url = f"/calendars/{calendar.pk}/day/{day.pk}/timeslot/"
        return client_for(people[name]).post(url, {"start_time": start, "end_time": end}, format="json")

    def test_once_when_the_last_answer_and_slot_are_in(self, planned, people):
        assert self.answer(people, planned, "dave", "accepted").status_code == 204
        assert notices("everyone_answered") == []  # carol and dave have no slot yet
        assert self.slot(people, planned, "carol").status_code == 201
        assert notices("everyone_answered") == []
        assert self.slot(people, planned, "dave").status_code == 201
        (message,) = notices("everyone_answered")
        assert message.to == ["alice@example.com"]
        assert message.subject == "Everyone has answered: Offsite"
        assert "bob, carol, dave accepted; erin declined." in message.body
        assert (
            "The best one-hour time: Monday 6 May 2030, 10:00\N{EN DASH}11:00 (Europe/Berlin, UTC+02:00): "
            "alice, bob, carol, dave." in message.body
        )
        # More slots: no second notice.
        assert self.slot(people, planned, "carol", "14:00", "15:00").status_code == 201
        assert notices("everyone_answered") == [message]

    def test_one_name_reads_in_the_singular(self, people):
        calendar = CalendarFactory(creator=people["alice"], title="Walk", timezone="UTC")
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 5, 6))
        TimeSlotFactory(day=day, owner=people["alice"], start_time=datetime.time(9), end_time=datetime.time(10))
        InvitationFactory(calendar=calendar, invitee=people["bob"], status="accepted")
        InvitationFactory(calendar=calendar, invitee=people["carol"], status="pending")
        self.answer(people, calendar, "carol", "rejected")
        self.slot(people, calendar, "bob", "09:00", "10:00")
        (message,) = notices("everyone_answered")
        assert "has answered: bob accepted; carol declined." in message.body

    def test_again_after_someone_new_is_invited_and_answers(self, planned, people):
        self.answer(people, planned, "dave", "rejected")
        self.slot(people, planned, "carol")
        assert len(notices("everyone_answered")) == 1
        alice = client_for(people["alice"])
        assert (
            alice.post(f"/calendars/{planned.pk}/invitations/", {"invitee_username": "fay"}, format="json").status_code
            == 201
        )
        assert len(notices("everyone_answered")) == 1
        self.answer(people, planned, "fay", "accepted")
        self.slot(people, planned, "fay", "09:00", "10:00")
        assert len(notices("everyone_answered")) == 2

    def test_revoking_the_last_pending_invitation_completes_it(self, planned, people):
        self.slot(people, planned, "carol")
        assert notices("everyone_answered") == []  # every participant has a slot, but dave has not answered
        invitation = Invitation.objects.get(invitee=people["dave"])
        assert (
            client_for(people["alice"]).delete(f"/calendars/{planned.pk}/invitations/{invitation.pk}/").status_code
            == 204
        )
        assert len(notices("everyone_answered")) == 1

    def test_a_calendar_nobody_was_invited_to_is_never_answered(self, people):
        calendar = CalendarFactory(creator=people["alice"], title="Alone", timezone="UTC")
        DayFactory(calendar=calendar, date=datetime.date(2030, 5, 6))
        assert self.slot(people, calendar, "alice").status_code == 201
        assert notices("everyone_answered") == []

    def test_a_slot_in_another_calendar_does_not_count(self, planned, people):
        # dave accepts; his only slot is on another calendar of alice's, so he has not answered this one.
        other = CalendarFactory(creator=people["alice"], title="Another", timezone="UTC")
        InvitationFactory(calendar=other, invitee=people["dave"], status="accepted")
        TimeSlotFactory(
            day=DayFactory(calendar=other),
            owner=people["dave"],
            start_time=datetime.time(9),
            end_time=datetime.time(10),
        )
        self.slot(people, planned, "carol")
        assert self.answer(people, planned, "dave", "accepted").status_code == 204
        assert notices("everyone_answered") == []
        assert self.slot(people, planned, "dave").status_code == 201
        assert len(notices("everyone_answered")) == 1

    def test_ending_a_friendship_with_the_last_pending_invitee_completes_it(self, planned, people):
        # alice unfriends dave: his invitation ends, and the worker's check finds everyone has answered.
        self.slot(people, planned, "carol")
        assert notices("everyone_answered") == []
        response = client_for(people["alice"]).post("/contacts/unadd/", {"username": "dave"}, format="json")
        assert response.status_code == 200
        (message,) = notices("everyone_answered")
        assert message.subject == "Everyone has answered: Offsite"

    def test_saving_a_whole_day_completes_it_too(self, planned, people):
        # carol's first slots come with a PUT of her day (nothing kept, one created).
        self.answer(people, planned, "dave", "rejected")
        day = planned.days.get()
        url = f"/calendars/{planned.pk}/day/{day.pk}/timeslot/"
        sent = [{"start_time": "10:00", "end_time": "11:00"}]
        assert client_for(people["carol"]).put(url, sent, format="json").status_code == 200
        assert len(notices("everyone_answered")) == 1

    def test_the_check_says_whether_it_notified(self, planned, people):
        # The task that checks for a write which could not lock the calendar returns what the check did.
        assert check_answers.call(planned.pk) == "not yet"  # dave is pending
        Invitation.objects.filter(calendar=planned, invitee=people["dave"]).update(status="rejected")
        TimeSlotFactory(
            day=planned.days.get(), owner=people["carol"], start_time=datetime.time(9), end_time=datetime.time(10)
        )
        assert check_answers.call(planned.pk) == "notified"
        planned.refresh_from_db()
        assert planned.answered_notice_round == planned.invitation_round
        assert check_answers.call(planned.pk) == "not yet"  # once a round
        assert len(notices("everyone_answered")) == 1

    def test_the_check_keeps_the_calendar_in_step_with_its_row(self, planned, people):
        Invitation.objects.filter(calendar=planned, invitee=people["dave"]).update(status="rejected")
        TimeSlotFactory(
            day=planned.days.get(), owner=people["carol"], start_time=datetime.time(9), end_time=datetime.time(10)
        )
        calendar = Calendar.objects.get(pk=planned.pk)
        assert calendar.answered_notice_round != calendar.invitation_round
        assert notices_module.check_everyone_answered(calendar) is True
        assert calendar.answered_notice_round == calendar.invitation_round  # a later save keeps the round
        assert notices_module.check_everyone_answered(calendar) is False

    def test_says_why_when_no_time_suits(self, people):
        calendar = CalendarFactory(creator=people["alice"], title="Nothing fits", timezone="UTC")
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 5, 6))
        InvitationFactory(calendar=calendar, invitee=people["bob"], status="accepted")
        TimeSlotFactory(day=day, owner=people["bob"], start_time=datetime.time(9), end_time=datetime.time(10))
        self.slot(people, calendar, "bob", "14:00", "15:00")
        (message,) = notices("everyone_answered")
        assert "There is no time that suits yet: The creator has not marked any availability" in message.body

    def test_an_unconfirmed_creator_gets_nothing(self, planned, people):
        people["alice"].verified_email = ""
        people["alice"].save()
        self.answer(people, planned, "dave", "rejected")
        self.slot(people, planned, "carol")
        assert notices("everyone_answered") == []


class TestDeadlinePassed:
    def test_fires_at_the_deadline_without_anyone_touching_the_calendar(self, planned, people, clock):
        (scheduled,) = DBTaskResult.objects.filter(task_path="calendars.tasks.notify_deadline")
        assert scheduled.run_after == datetime.datetime.fromisoformat(DEADLINE)  # at the moment itself
        run_tasks()
        assert notices("deadline") == []  # not yet
        passed(clock)
        (message,) = notices("deadline")
        assert message.to == ["alice@example.com"]
        assert message.subject == "Deadline passed: Offsite"
        assert "passed (Wednesday 3 April 2030, 18:00 Berlin time)" in message.body
        assert "Did not answer: dave." in message.body
        assert (
            "1. Monday 6 May 2030, 10:00\N{EN DASH}11:00 (Europe/Berlin, UTC+02:00): alice, bob; missing carol"
            in message.body
        )
        passed(clock)
        assert len(notices("deadline")) == 1  # once

    def test_a_moved_deadline_notifies_when_the_new_one_passes(self, planned, people, clock):
        alice = client_for(people["alice"])
        days = [{"id": d.pk, "date": d.date.isoformat(), "ranking": d.ranking} for d in planned.days.all()]
        body = {"title": planned.title, "days": days, "respond_by": "2030-04-10T09:00:00Z"}
        assert alice.put(f"/calendars/{planned.pk}/", body, format="json").status_code == 200
        passed(clock)  # the first deadline's moment: its task finds the deadline moved
        assert notices("deadline") == []
        clock.move_to(datetime.datetime(2030, 4, 10, 9, 0, 1, tzinfo=datetime.UTC))
        assert len(notices("deadline")) == 1

    def test_not_when_the_meeting_is_fixed(self, planned, people, clock):
        alice = client_for(people["alice"])
        meeting = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:00"}
        assert alice.post(f"/calendars/{planned.pk}/finalize/", meeting, format="json").status_code == 200
        passed(clock)
        assert notices("deadline") == []
        assert Calendar.objects.get().deadline_notice_for is not None  # handled: an undo later sends nothing

    def test_the_sweep_catches_a_lost_schedule(self, planned, people, clock):
        DBTaskResult.objects.all().delete()  # the scheduled task was lost
        passed(clock)
        from calendars import tasks

        assert tasks.deadline_sweep.call() == "1 deadline(s) handed on"
        assert len(notices("deadline")) == 1
        assert tasks.deadline_sweep.call() == "0 deadline(s) handed on"

    def test_a_deleted_calendar_sends_nothing(self, planned, people, clock):
        assert client_for(people["alice"]).delete(f"/calendars/{planned.pk}/").status_code == 204
        passed(clock)
        assert notices("deadline") == []
