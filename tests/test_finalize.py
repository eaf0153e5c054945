"""POST/DELETE /calendars/{id}/finalize/: who fixes the meeting, input rules, what stays frozen while fixed."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.core import mail

from calendars import selectors
from calendars import services as calendar_services
from calendars.models import Calendar, Invitation, TimeSlot
from invitations import services as invitation_services
from oneonone.exceptions import Conflict
from tests.conftest import client_for, run_tasks
from tests.factories import CalendarFactory, DayFactory, InvitationFactory, TimeSlotFactory, UserFactory, make_friends
from tests.support import run_together

MAY_6 = datetime.date(2030, 5, 6)
MAY_7 = datetime.date(2030, 5, 7)
MEETING = {"date": "2030-05-06", "start_time": "10:00", "end_time": "11:30"}
FINALIZED_BODY = {
    "date": "2030-05-06",
    "start_time": "10:00:00",
    "end_time": "11:30:00",
    "starts_at": "2030-05-06T10:00:00+02:00",
    "ends_at": "2030-05-06T11:30:00+02:00",
}


def url(calendar) -> str:
    return f"/calendars/{calendar.pk}/finalize/"


def frozen(calendar, what: str) -> dict:
    return {
        "detail": f"The meeting is finalized (2030-05-06 10:00:00-11:30:00 Europe/Berlin): {what} cannot change "
        f"until the creator undoes it with DELETE /calendars/{calendar.pk}/finalize/."
    }


@pytest.fixture
def world(db):
    alice, bob, carol, dave = (UserFactory(username=name) for name in ("alice", "bob", "carol", "dave"))
    for friend in (bob, carol, dave):
        make_friends(alice, friend)
    calendar = CalendarFactory(creator=alice, title="Kickoff", description="Plan the year.", timezone="Europe/Berlin")
    first = DayFactory(calendar=calendar, date=MAY_6, ranking=1)
    second = DayFactory(calendar=calendar, date=MAY_7, ranking=2)
    bobs = InvitationFactory(calendar=calendar, invitee=bob, status="accepted")
    carols = InvitationFactory(calendar=calendar, invitee=carol, status="pending")
    alices_slot = TimeSlotFactory(day=first, owner=alice, start_time=datetime.time(9), end_time=datetime.time(12))
    bobs_slot = TimeSlotFactory(day=first, owner=bob, start_time=datetime.time(10), end_time=datetime.time(12))
    return {
        "calendar": calendar,
        "first": first,
        "second": second,
        "alice": client_for(alice),
        "bob": client_for(bob),
        "carol": client_for(carol),
        "dave": client_for(dave),
        "bob_invitation": bobs,
        "carol_invitation": carols,
        "alices_slot": alices_slot,
        "bobs_slot": bobs_slot,
        "users": {"alice": alice, "bob": bob, "carol": carol, "dave": dave},
    }


def finalize(world, body=None):
    return world["alice"].post(url(world["calendar"]), body or MEETING, format="json")


@pytest.mark.django_db
class TestFinalize:
    def test_creator_fixes_the_meeting_and_the_calendar_shows_it(self, world):
        response = finalize(world)
        assert response.status_code == 200
        body = response.json()
        assert body["finalized"] == FINALIZED_BODY
        assert body == world["alice"].get(f"/calendars/{world['calendar'].pk}/").json()
        assert body["id"] == world["calendar"].pk
        assert body["timezone"] == "Europe/Berlin"
        calendar = Calendar.objects.get()
        assert (calendar.finalized_date, calendar.finalized_start_time, calendar.finalized_end_time) == (
            MAY_6,
            datetime.time(10),
            datetime.time(11, 30),
        )
        assert calendar.schedule_revision == 1
        # Every member sees it, in the list too.
        listed = world["bob"].get("/calendars/").json()["results"]
        assert [c["finalized"] for c in listed] == [FINALIZED_BODY]
        assert world["carol"].get(f"/calendars/{calendar.pk}/").json()["finalized"] == FINALIZED_BODY

    def test_any_day_of_the_calendar_and_seconds(self, world):
        response = finalize(world, {"date": "2030-05-07", "start_time": "23:00:00", "end_time": "23:59:59"})
        assert response.status_code == 200
        assert response.json()["finalized"] == {
            "date": "2030-05-07",
            "start_time": "23:00:00",
            "end_time": "23:59:59",
            "starts_at": "2030-05-07T23:00:00+02:00",
            "ends_at": "2030-05-07T23:59:59+02:00",
        }

    def test_form_encoded_body(self, world):
        response = world["alice"].post(
            url(world["calendar"]),
            "date=2030-05-06&start_time=10:00&end_time=11:30",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert response.json()["finalized"] == FINALIZED_BODY

    def test_same_time_again_is_a_no_op(self, world):
        assert finalize(world).status_code == 200
        again = finalize(world, {**MEETING, "start_time": "10:00:00"})
        assert again.status_code == 200
        assert again.json()["finalized"] == FINALIZED_BODY
        assert Calendar.objects.get().schedule_revision == 1

    def test_another_time_while_finalized_is_409(self, world):
        assert finalize(world).status_code == 200
        response = finalize(world, {**MEETING, "date": "2030-05-07"})
        assert response.status_code == 409
        assert response.json() == {
            "detail": "The meeting is already finalized (2030-05-06 10:00:00-11:30:00 Europe/Berlin); undo it with "
            f"DELETE /calendars/{world['calendar'].pk}/finalize/ before fixing another time."
        }
        assert Calendar.objects.get().finalized_date == MAY_6

    def test_undo_then_another_time(self, world):
        assert finalize(world).status_code == 200
        undone = world["alice"].delete(url(world["calendar"]))
        assert undone.status_code == 200
        assert undone.json()["finalized"] is None
        assert undone.json() == world["alice"].get(f"/calendars/{world['calendar'].pk}/").json()
        response = finalize(world, {"date": "2030-05-07", "start_time": "08:00", "end_time": "09:00"})
        assert response.status_code == 200
        assert response.json()["finalized"]["date"] == "2030-05-07"
        # finalize, undo, finalize: the iCalendar SEQUENCE is 2
        calendar = Calendar.objects.get()
        assert (calendar.schedule_revision, calendar.ics_sequence) == (3, 2)

    def test_a_fixed_number_of_queries(self, world, django_assert_num_queries):
        # The calendar is read with its creator under the lock; each participant told costs its email's queries.
        calendar = world["calendar"]
        with django_assert_num_queries(19):
            calendar_services.calendar_finalize(
                calendar=calendar, date=MAY_6, start_time=datetime.time(10), end_time=datetime.time(11)
            )
        with django_assert_num_queries(18):
            calendar_services.calendar_unfinalize(calendar=calendar)

    def test_undo_touches_this_calendar_only(self, world):
        other = CalendarFactory(creator=world["users"]["alice"], title="Other", timezone="UTC")
        DayFactory(calendar=other, date=MAY_6, ranking=1)
        assert world["alice"].post(url(other), MEETING, format="json").status_code == 200
        assert finalize(world).status_code == 200
        assert world["alice"].delete(url(world["calendar"])).status_code == 200
        assert Calendar.objects.get(pk=world["calendar"].pk).finalized_date is None
        assert Calendar.objects.get(pk=other.pk).finalized_date == MAY_6

    def test_undo_when_nothing_is_fixed_is_a_no_op(self, world):
        response = world["alice"].delete(url(world["calendar"]))
        assert response.status_code == 200
        assert response.json()["finalized"] is None
        assert Calendar.objects.get().schedule_revision == 0


@pytest.mark.django_db
class TestFinalizeInput:
    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({**MEETING, "date": "2030-05-08"}, {"date": ["2030-05-08 is not a day of this calendar."]}),
            ({**MEETING, "end_time": "10:00"}, {"end_time": ["End time must be after start time."]}),
            ({**MEETING, "end_time": "09:00"}, {"end_time": ["End time must be after start time."]}),
            (
                {"date": "2030-05-06"},
                {"start_time": ["This field is required."], "end_time": ["This field is required."]},
            ),
            ({}, {f: ["This field is required."] for f in ("date", "start_time", "end_time")}),
        ],
    )
    def test_bad_input_is_400(self, world, body, errors):
        response = finalize(world, body) if body else world["alice"].post(url(world["calendar"]), {}, format="json")
        assert response.status_code == 400
        assert response.json() == errors
        assert Calendar.objects.get().finalized_date is None

    def test_a_day_of_another_calendar_is_not_a_day_of_this_one(self, world):
        other = CalendarFactory(creator=world["users"]["alice"], title="Other", timezone="UTC")
        DayFactory(calendar=other, date=datetime.date(2030, 5, 8), ranking=1)
        response = finalize(world, {**MEETING, "date": "2030-05-08"})
        assert response.status_code == 400
        assert response.json() == {"date": ["2030-05-08 is not a day of this calendar."]}
        assert Calendar.objects.get(pk=world["calendar"].pk).finalized_date is None

    @pytest.mark.parametrize("value", ["24:00", "10:60", "9am", "10:00:00.5", ""])
    def test_bad_time_format(self, world, value):
        response = finalize(world, {**MEETING, "start_time": value})
        assert response.status_code == 400
        assert list(response.json()) == ["start_time"]

    @pytest.mark.parametrize("value", ["2030-02-30", "06/05/2030", "soon"])
    def test_bad_date_format(self, world, value):
        response = finalize(world, {**MEETING, "date": value})
        assert response.status_code == 400
        assert list(response.json()) == ["date"]

    def test_a_time_the_clocks_skip_is_400(self, world):
        DayFactory(calendar=world["calendar"], date=datetime.date(2030, 3, 31), ranking=3)
        response = finalize(world, {"date": "2030-03-31", "start_time": "02:30", "end_time": "04:00"})
        assert response.status_code == 400
        assert response.json() == {
            "start_time": ["02:30:00 does not exist on 2030-03-31 in Europe/Berlin: the clocks go forward over it."]
        }
        response = finalize(world, {"date": "2030-03-31", "start_time": "01:00", "end_time": "02:00"})
        assert response.json() == {
            "end_time": ["02:00:00 does not exist on 2030-03-31 in Europe/Berlin: the clocks go forward over it."]
        }

    def test_repeated_hour_lasts_what_the_clock_says(self, world):
        # 2030-10-27 in Berlin: 02:00-02:59 happens twice; 02:00-03:00 starts at the second 02:00 (+01:00).
        DayFactory(calendar=world["calendar"], date=datetime.date(2030, 10, 27), ranking=3)
        response = finalize(world, {"date": "2030-10-27", "start_time": "02:00", "end_time": "03:00"})
        assert response.status_code == 200
        finalized = response.json()["finalized"]
        assert (finalized["starts_at"], finalized["ends_at"]) == (
            "2030-10-27T02:00:00+01:00",
            "2030-10-27T03:00:00+01:00",
        )

    def test_spanning_the_repeated_hour(self, world):
        # 01:00-03:00 on the fall-back day lasts three real hours: no shorter placement exists.
        DayFactory(calendar=world["calendar"], date=datetime.date(2030, 10, 27), ranking=3)
        response = finalize(world, {"date": "2030-10-27", "start_time": "01:00", "end_time": "03:00"})
        finalized = response.json()["finalized"]
        assert (finalized["starts_at"], finalized["ends_at"]) == (
            "2030-10-27T01:00:00+02:00",
            "2030-10-27T03:00:00+01:00",
        )


@pytest.mark.django_db
class TestFinalizeAccess:
    @pytest.mark.parametrize("who", ["bob", "carol"])
    def test_participants_and_pending_invitees_get_403(self, world, who):
        response = world[who].post(url(world["calendar"]), MEETING, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the calendar's creator can finalize the meeting."}
        assert finalize(world).status_code == 200
        response = world[who].delete(url(world["calendar"]))
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the calendar's creator can undo the finalized meeting."}
        assert Calendar.objects.get().finalized_date == MAY_6

    def test_stranger_gets_404(self, world):
        assert world["dave"].post(url(world["calendar"]), MEETING, format="json").status_code == 404
        assert world["dave"].delete(url(world["calendar"])).status_code == 404

    def test_missing_calendar_is_404(self, world):
        assert world["alice"].post("/calendars/987654/finalize/", MEETING, format="json").status_code == 404

    def test_unauthenticated(self, world, api_client):
        assert api_client.post(url(world["calendar"]), MEETING, format="json").status_code == 401
        assert api_client.delete(url(world["calendar"])).status_code == 401


def slots_url(world, slot=None) -> str:
    base = f"/calendars/{world['calendar'].pk}/day/{world['first'].pk}/timeslot/"
    return f"{base}{slot.pk}/" if slot else base


def invitations_url(world, invitation=None) -> str:
    base = f"/calendars/{world['calendar'].pk}/invitations/"
    return f"{base}{invitation.pk}/" if invitation else base


@pytest.mark.django_db
class TestFrozenWhileFinalized:
    @pytest.fixture(autouse=True)
    def _finalized(self, world):
        assert finalize(world).status_code == 200

    def test_timeslots_read_but_do_not_change(self, world):
        calendar = world["calendar"]
        assert world["bob"].get(slots_url(world)).status_code == 200
        assert world["bob"].get(slots_url(world, world["bobs_slot"])).status_code == 200
        response = world["bob"].post(slots_url(world), {"start_time": "14:00", "end_time": "15:00"}, format="json")
        assert response.status_code == 409
        assert response.json() == frozen(calendar, "timeslots")
        response = world["bob"].put(
            slots_url(world, world["bobs_slot"]), {"start_time": "13:00", "end_time": "14:00"}, format="json"
        )
        assert response.status_code == 409
        assert response.json() == frozen(calendar, "timeslots")
        response = world["alice"].delete(slots_url(world, world["alices_slot"]))
        assert response.status_code == 409
        assert response.json() == frozen(calendar, "timeslots")
        assert TimeSlot.objects.count() == 2
        world["bobs_slot"].refresh_from_db()
        assert world["bobs_slot"].start_time == datetime.time(10)

    def test_permission_errors_still_come_first(self, world):
        # Not the owner: 403 as always; a pending invitee adding a slot: 403.
        response = world["alice"].delete(slots_url(world, world["bobs_slot"]))
        assert response.status_code == 403
        response = world["carol"].post(slots_url(world), {"start_time": "14:00", "end_time": "15:00"}, format="json")
        assert response.status_code == 403

    def test_invitations_read_but_do_not_change(self, world):
        calendar = world["calendar"]
        assert world["alice"].get(invitations_url(world)).json()["count"] == 2
        response = world["alice"].post(invitations_url(world), {"invitee_username": "dave"}, format="json")
        assert response.status_code == 409
        assert response.json() == frozen(calendar, "invitations")
        response = world["carol"].put(invitations_url(world, world["carol_invitation"]), {"status": "accepted"})
        assert response.status_code == 409
        assert response.json() == frozen(calendar, "invitations")
        response = world["bob"].put(invitations_url(world, world["bob_invitation"]), {"status": "rejected"})
        assert response.status_code == 409
        response = world["alice"].delete(invitations_url(world, world["bob_invitation"]))
        assert response.status_code == 409
        assert response.json() == frozen(calendar, "invitations")
        assert sorted(Invitation.objects.values_list("invitee__username", "status")) == [
            ("bob", "accepted"),
            ("carol", "pending"),
        ]
        assert TimeSlot.objects.filter(owner__username="bob").exists()

    @pytest.mark.parametrize("service", ["invitation_revoke", "invitation_remind", "invitation_create"])
    def test_the_services_refuse_on_their_own(self, world, service):
        # The views refuse first; a finalize that lands between the view's check and the service's lock is
        # refused by the service, under the calendar's lock, with the same answer.
        assert finalize(world).status_code == 200
        invitation = world["carol_invitation"]
        arguments = (
            {"calendar": world["calendar"], "invitee": world["users"]["dave"]}
            if service == "invitation_create"
            else {"invitation": invitation}
        )
        with pytest.raises(Conflict) as raised:
            getattr(invitation_services, service)(**arguments)
        assert {"detail": str(raised.value.detail)} == frozen(world["calendar"], "invitations")
        assert Invitation.objects.filter(pk=invitation.pk, reminded_at=None).exists()
        assert Invitation.objects.count() == 2

    def test_days_and_time_zone_are_fixed_title_and_description_are_not(self, world):
        calendar = world["calendar"]
        detail = f"/calendars/{calendar.pk}/"
        current = world["alice"].get(detail).json()
        # The GET body sent back as is: nothing changes, so it is fine.
        assert world["alice"].put(detail, current, format="json").status_code == 200
        renamed = world["alice"].put(detail, {**current, "title": "Kickoff!", "description": "New"}, format="json")
        assert renamed.status_code == 200
        assert (renamed.json()["title"], renamed.json()["finalized"]) == ("Kickoff!", FINALIZED_BODY)
        changes = [
            {**current, "days": current["days"][:1]},
            {**current, "days": [*current["days"], {"date": "2030-05-09", "ranking": 3}]},
            {**current, "days": [{**current["days"][0], "ranking": 5}, current["days"][1]]},
            {**current, "timezone": "UTC"},
        ]
        for body in changes:
            response = world["alice"].put(detail, body, format="json")
            assert response.status_code == 409
            assert response.json() == frozen(calendar, "the days and the time zone")
        assert calendar.days.count() == 2
        calendar.refresh_from_db()
        assert (calendar.title, calendar.timezone) == ("Kickoff!", "Europe/Berlin")

    def test_everything_changes_again_after_undo(self, world):
        assert world["alice"].delete(url(world["calendar"])).status_code == 200
        response = world["bob"].post(slots_url(world), {"start_time": "14:00", "end_time": "15:00"}, format="json")
        assert response.status_code == 201
        assert (
            world["carol"].put(invitations_url(world, world["carol_invitation"]), {"status": "accepted"}).status_code
            == 204
        )
        assert (
            world["alice"].post(invitations_url(world), {"invitee_username": "dave"}, format="json").status_code == 201
        )

    def test_ending_a_friendship_still_removes_the_participant(self, world):
        # A block or unfriend is never refused; the finalized meeting then has one attendee fewer.
        assert world["bob"].post("/contacts/block/", {"username": "alice"}, format="json").status_code == 200
        assert not Invitation.objects.filter(invitee__username="bob").exists()
        assert world["alice"].get(f"/calendars/{world['calendar'].pk}/").json()["participants"] == []
        assert Calendar.objects.get().finalized_date == MAY_6

    def test_suggestions_still_answer(self, world):
        response = world["bob"].get(f"/calendars/{world['calendar'].pk}/suggestions/")
        assert response.status_code == 200
        assert response.json()["suggestions"][0]["available"] == ["alice", "bob"]

    def test_deleting_the_calendar_is_allowed(self, world):
        assert world["alice"].delete(f"/calendars/{world['calendar'].pk}/").status_code == 204
        assert not Calendar.objects.exists()


# PostgreSQL: two finalizations at once, and writes waiting for the lock ------------------------------------------


@pytest.fixture
def slow_finalize(monkeypatch):
    # Hold the calendar lock a while after the meeting is fixed, so the other request surely waits for it. The
    # event is set once the lock is held: a test that needs the other request to come second waits for it
    # (a fixed sleep was not enough on a loaded machine).
    original = selectors.participants
    holding = threading.Event()

    def slow(calendar):
        holding.set()
        time.sleep(0.3)
        return original(calendar)

    monkeypatch.setattr(selectors, "participants", slow)
    return holding


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
class TestConcurrentFinalize:
    def test_two_different_times_one_wins_the_other_gets_409(self, world, slow_finalize):
        alice = world["users"]["alice"]
        clients = [client_for(alice), client_for(alice)]
        bodies = [MEETING, {**MEETING, "date": "2030-05-07"}]
        responses = run_together(
            *[
                (lambda c=c, b=b: c.post(url(world["calendar"]), b, format="json"))
                for c, b in zip(clients, bodies, strict=True)
            ]
        )
        assert sorted(r.status_code for r in responses) == [200, 409]
        winner = next(r for r in responses if r.status_code == 200).json()["finalized"]
        calendar = Calendar.objects.get()
        assert calendar.finalized_date.isoformat() == winner["date"]
        assert calendar.schedule_revision == 1
        # One round of emails: alice and bob.
        run_tasks()
        assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]

    def test_the_same_time_twice_at_once_is_fixed_once(self, world, slow_finalize):
        alice = world["users"]["alice"]
        clients = [client_for(alice), client_for(alice)]
        responses = run_together(
            *[(lambda c=c: c.post(url(world["calendar"]), MEETING, format="json")) for c in clients]
        )
        assert [r.status_code for r in responses] == [200, 200]
        assert Calendar.objects.get().schedule_revision == 1
        run_tasks()
        assert len(mail.outbox) == 2

    def test_a_slot_written_during_finalize_waits_and_gets_409(self, world, slow_finalize):
        alice, bob = world["users"]["alice"], world["users"]["bob"]
        finalizer, writer = client_for(alice), client_for(bob)

        def late_slot():
            assert slow_finalize.wait(10)  # finalize holds the lock now
            return writer.post(slots_url(world), {"start_time": "14:00", "end_time": "15:00"}, format="json")

        responses = run_together(lambda: finalizer.post(url(world["calendar"]), MEETING, format="json"), late_slot)
        assert [r.status_code for r in responses] == [200, 409]
        assert not TimeSlot.objects.filter(start_time=datetime.time(14)).exists()

    def test_an_answer_during_finalize_waits_and_gets_409(self, world, slow_finalize):
        alice, carol = world["users"]["alice"], world["users"]["carol"]
        finalizer, answerer = client_for(alice), client_for(carol)

        def late_answer():
            assert slow_finalize.wait(10)  # finalize holds the lock now
            return answerer.put(
                invitations_url(world, world["carol_invitation"]), {"status": "accepted"}, format="json"
            )

        responses = run_together(lambda: finalizer.post(url(world["calendar"]), MEETING, format="json"), late_answer)
        assert [r.status_code for r in responses] == [200, 409]
        assert Invitation.objects.get(invitee=carol).status == "pending"
