"""Every bound of the API answered with a clear 400 or 413 (docs/security.md, "Limits"), and the
database's own refusals and failures mapped to 400/409/503 instead of a 500."""

from __future__ import annotations

import datetime

import pytest
from django.db import DataError, IntegrityError, OperationalError, connection
from rest_framework.test import APIRequestFactory

from calendars.models import MAX_DAYS_PER_CALENDAR, MAX_RANKING, MAX_TIMESLOTS_PER_OWNER_PER_DAY, TimeSlot
from calendars.scheduling import MAX_DURATION, MAX_LIMIT
from oneonone import exceptions
from oneonone.pagination import PageNumberPagination
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, TimeSlotFactory, UserFactory

pytestmark = pytest.mark.django_db

START = datetime.date(2030, 1, 1)


def days(count: int, **extra) -> list[dict]:
    return [{"date": (START + datetime.timedelta(days=i)).isoformat(), "ranking": i + 1, **extra} for i in range(count)]


def slots(count: int) -> list[dict]:
    """`count` non-overlapping 10-minute slots, one every 25 minutes from midnight."""
    starts = [i * 25 for i in range(count)]
    return [
        {"start_time": f"{m // 60:02}:{m % 60:02}", "end_time": f"{(m + 10) // 60:02}:{(m + 10) % 60:02}"}
        for m in starts
    ]


class TestBodySize:
    def test_exactly_the_limit_is_read(self, auth_client, settings):
        body = b'{"title": "' + b"x" * 50 + b'"}'
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
        response = auth_client.post("/calendars/", body, content_type="application/json")
        # Read and validated: the title passed, the missing days are the only complaint (not a 413, not a parse error).
        assert response.status_code == 400
        assert response.json() == {"days": ["This field is required."]}

    def test_one_byte_over_is_413_before_authentication(self, api_client, settings):
        body = b'{"title": "' + b"x" * 50 + b'"}'
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body) - 1
        response = api_client.post("/calendars/", body, content_type="application/json")
        assert response.status_code == 413
        assert response.json() == {
            "detail": f"Request body too large: {len(body)} bytes, the limit is {len(body) - 1}."
        }

    def test_default_limit_is_one_mebibyte(self, auth_client):
        body = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
        response = auth_client.post("/calendars/", body, content_type="application/json")
        assert response.status_code == 413

    def test_malformed_content_length(self, api_client):
        response = api_client.generic("POST", "/auth/login/", "{}", content_type="application/json", CONTENT_LENGTH="x")
        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid Content-Length header."}

    def test_too_many_form_fields_is_400(self, auth_client):
        body = "&".join(f"f{i}=1" for i in range(1100))
        response = auth_client.post("/calendars/", body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"


class TestPageSize:
    URL = "/contacts/search/"

    def test_cap_is_100(self, auth_client):
        UserFactory.create_batch(3)
        assert auth_client.get(self.URL, {"page_size": 100}).status_code == 200
        response = auth_client.get(self.URL, {"page_size": 101})
        assert response.status_code == 400
        assert response.json() == {
            "page_size": [f"Must be a whole number from 1 to {PageNumberPagination.max_page_size}."]
        }

    @pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "9" * 5000])
    def test_not_a_page_size(self, auth_client, value):
        response = auth_client.get(self.URL, {"page_size": value})
        assert response.status_code == 400
        assert list(response.json()) == ["page_size"]

    @pytest.mark.parametrize("value", ["abc", "0", "2"])
    def test_invalid_or_missing_page_is_404(self, auth_client, value):
        response = auth_client.get(self.URL, {"page": value})
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}

    def test_empty_values_count_as_left_out(self, auth_client):
        UserFactory.create_batch(12)
        response = auth_client.get(self.URL, {"page": "", "page_size": ""})
        assert response.status_code == 200
        assert (response.json()["count"], len(response.json()["results"])) == (12, 10)


class TestCalendarBounds:
    def test_at_most_60_days(self, auth_client):
        assert MAX_DAYS_PER_CALENDAR == 60
        ok = auth_client.post("/calendars/", {"title": "Full", "days": days(60)}, format="json")
        assert ok.status_code == 201
        response = auth_client.post("/calendars/", {"title": "Too many", "days": days(61)}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"non_field_errors": ["A calendar has at most 60 days."]}}

    def test_edit_cannot_pass_60_days(self, auth_client, user):
        calendar = CalendarFactory(creator=user)
        response = auth_client.put(f"/calendars/{calendar.pk}/", {"title": "x", "days": days(61)}, format="json")
        assert response.status_code == 400
        assert response.json() == {"days": {"non_field_errors": ["A calendar has at most 60 days."]}}

    def test_title_and_description_lengths(self, auth_client):
        ok = {"title": "t" * 200, "description": "d" * 5000, "days": days(1)}
        assert auth_client.post("/calendars/", ok, format="json").status_code == 201
        response = auth_client.post(
            "/calendars/", {"title": "t" * 201, "description": "d" * 5001, "days": days(1)}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {
            "title": ["Ensure this field has no more than 200 characters."],
            "description": ["Ensure this field has no more than 5000 characters."],
        }

    def test_ranking_fits_the_column(self, auth_client):
        body = {"title": "x", "days": [{"date": "2030-01-01", "ranking": MAX_RANKING + 1}]}
        response = auth_client.post("/calendars/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {"0": {"ranking": [f"Ensure this value is less than or equal to {MAX_RANKING}."]}}
        }


class TestTimeslotBounds:
    def test_48_new_slots_in_one_day_but_not_49(self, auth_client):
        assert MAX_TIMESLOTS_PER_OWNER_PER_DAY == 48
        ok = auth_client.post("/calendars/", {"title": "x", "days": days(1, timeslots=slots(48))}, format="json")
        assert ok.status_code == 201
        response = auth_client.post("/calendars/", {"title": "x", "days": days(1, timeslots=slots(49))}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "days": {"0": {"timeslots": {"non_field_errors": ["At most 48 timeslots per person per day."]}}}
        }

    def test_49th_slot_on_a_day(self, auth_client, user):
        day = DayFactory(calendar=CalendarFactory(creator=user))
        for slot in slots(48):
            TimeSlotFactory(
                day=day,
                owner=user,
                start_time=datetime.time.fromisoformat(slot["start_time"]),
                end_time=datetime.time.fromisoformat(slot["end_time"]),
            )
        response = auth_client.post(
            f"/calendars/{day.calendar_id}/day/{day.pk}/timeslot/",
            {"start_time": "23:00", "end_time": "23:30"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["You already have 48 timeslots on this day, the most allowed."]}
        assert TimeSlot.objects.filter(day=day).count() == 48


class TestNameBounds:
    @pytest.mark.parametrize(
        ("url", "field"),
        [("/contacts/add/", "username"), ("/contacts/block/", "username")],
    )
    def test_usernames_longer_than_150(self, auth_client, url, field):
        response = auth_client.post(url, {field: "u" * 151}, format="json")
        assert response.status_code == 400
        assert response.json() == {field: ["Ensure this field has no more than 150 characters."]}

    def test_invitee_username_longer_than_150(self, auth_client, user):
        calendar = CalendarFactory(creator=user)
        response = auth_client.post(
            f"/calendars/{calendar.pk}/invitations/", {"invitee_username": "u" * 151}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {"invitee_username": ["Ensure this field has no more than 150 characters."]}

    def test_password_longer_than_128(self, api_client):
        password = "p4ss-" + "w" * 124
        body = {"username": "newbie", "password": password, "password2": password}
        response = api_client.post("/auth/register/", body, format="json")
        assert response.status_code == 400
        assert response.json()["password"] == ["Ensure this field has no more than 128 characters."]


class TestSuggestionBounds:
    @pytest.mark.parametrize(
        ("query", "field", "message"),
        [
            ({"duration": MAX_DURATION + 1}, "duration", f"Ensure this value is less than or equal to {MAX_DURATION}."),
            ({"duration": 0}, "duration", "Ensure this value is greater than or equal to 1."),
            ({"limit": MAX_LIMIT + 1}, "limit", f"Ensure this value is less than or equal to {MAX_LIMIT}."),
            ({"step": 7}, "step", '"7" is not a valid choice.'),
        ],
    )
    def test_over_the_bounds(self, auth_client, user, query, field, message):
        calendar = CalendarFactory(creator=user)
        response = auth_client.get(f"/calendars/{calendar.pk}/suggestions/", query)
        assert response.status_code == 400
        assert response.json() == {field: [message]}

    def test_the_longest_request_is_bounded(self, user):
        """60 days with 48 slots each for the creator and 10 participants, the finest step, the most windows."""
        from calendars.models import Invitation

        calendar = CalendarFactory(creator=user)
        members = [user] + [UserFactory() for _ in range(10)]
        for member in members[1:]:
            Invitation.objects.create(calendar=calendar, invitee=member, inviter=user, status="accepted")
        rows = []
        for i in range(MAX_DAYS_PER_CALENDAR):
            day = DayFactory(calendar=calendar, date=START + datetime.timedelta(days=i), ranking=i + 1)
            for member in members:
                for slot in slots(MAX_TIMESLOTS_PER_OWNER_PER_DAY):
                    rows.append(
                        TimeSlot(
                            day=day,
                            owner=member,
                            start_time=datetime.time.fromisoformat(slot["start_time"]),
                            end_time=datetime.time.fromisoformat(slot["end_time"]),
                        )
                    )
        TimeSlot.objects.bulk_create(rows)
        response = client_for(user).get(
            f"/calendars/{calendar.pk}/suggestions/", {"duration": 5, "step": 5, "limit": MAX_LIMIT}
        )
        assert response.status_code == 200
        assert len(response.json()["suggestions"]) == MAX_LIMIT


class TestOddInput:
    @pytest.mark.parametrize("pk", ["99999999999999999999999", "9223372036854775808", "2147483648"])
    def test_ids_beyond_the_integer_column(self, auth_client, pk):
        response = auth_client.get(f"/calendars/{pk}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_nul_character_in_search(self, auth_client):
        response = auth_client.get("/contacts/search/", {"search": "a\x00b"})
        if connection.vendor == "postgresql":
            # PostgreSQL text cannot hold NUL; the client hears why instead of a 500 or a 503.
            assert response.status_code == 400
            assert response.json() == {"detail": exceptions.UNSTORABLE}
        else:
            assert response.status_code == 200
            assert response.json()["count"] == 0


class TestDatabaseErrorsMapping:
    """The exception handler's answer for each kind of database error a view can hit."""

    def handle(self, error: Exception):
        request = APIRequestFactory().get("/")
        return exceptions.exception_handler(error, {"request": request, "view": None})

    def test_lost_database_is_503_with_retry_after(self):
        response = self.handle(OperationalError("server closed the connection unexpectedly"))
        assert (response.status_code, response.data) == (503, {"detail": exceptions.UNAVAILABLE})
        assert response["Retry-After"] == "5"

    def test_value_the_database_refuses_is_400(self):
        response = self.handle(DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
        assert (response.status_code, response.data) == (400, {"detail": exceptions.UNSTORABLE})

    def test_constraint_a_service_did_not_expect_is_409(self):
        response = self.handle(IntegrityError("duplicate key value violates unique constraint"))
        assert (response.status_code, response.data) == (409, {"detail": exceptions.CONCURRENT})

    def test_handler500_answers_503_for_a_lost_database(self, rf):
        try:
            raise OperationalError("connection refused")
        except OperationalError:
            response = exceptions.handler500(rf.get("/"))
        assert response.status_code == 503
        assert response["Retry-After"] == "5"

    def test_handler500_stays_500_otherwise(self, rf):
        try:
            raise RuntimeError("bug")
        except RuntimeError:
            response = exceptions.handler500(rf.get("/"))
        assert response.status_code == 500


class TestTextThatReachesOtherFormats:
    """Calendar text goes into email headers and iCalendar lines; odd characters must not break either."""

    def test_a_title_with_a_line_break_still_sends_the_emails(self, auth_client, user, other_user, deliver):
        from calendars.models import Invitation

        calendar = CalendarFactory(creator=user, title="Kick-off\r\nBcc: everyone@example.com")
        DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)
        Invitation.objects.create(calendar=calendar, invitee=other_user, inviter=user, status="accepted")
        meeting = {"date": "2030-01-02", "start_time": "09:00", "end_time": "10:00"}
        response = auth_client.post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json")
        assert response.status_code == 200
        outbox = deliver()
        assert sorted(m.to[0] for m in outbox) == ["alice@example.com", "bob@example.com"]
        for message in outbox:
            assert "\n" not in message.subject
            assert "Bcc" not in message.message().keys()

    def test_a_title_with_a_line_break_in_the_ics_export(self, auth_client, user):
        calendar = CalendarFactory(creator=user, title="Kick-off\r\nATTENDEE:mailto:intruder@example.com")
        DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)
        meeting = {"date": "2030-01-02", "start_time": "09:00", "end_time": "10:00"}
        assert auth_client.post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json").status_code == 200
        body = auth_client.get(f"/calendars/{calendar.pk}/ics/").content.decode()
        assert "\r\nATTENDEE:mailto:intruder@example.com" not in body


def test_multipart_body_without_parts_is_400_not_ignored(db):
    from tests.conftest import client_for
    from tests.factories import ContactFactory, UserFactory

    alice, bob = UserFactory(username="mp_alice"), UserFactory(username="mp_bob")
    contact = ContactFactory(userA=alice, userB=bob, status=1)
    boundary = "8755663b106bb306c191caeadd09c6f7"
    body = f"--{boundary}\r\n[None, 4.67e+16, [4426525, -1.56e+16]]--{boundary}--\r\n"
    response = client_for(alice).generic(
        "PATCH", f"/contacts/{contact.id}/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Multipart form parse error - the body has no parts for its boundary."}
    contact.refresh_from_db()
    assert contact.status == 1


def test_multipart_form_still_works(db):
    from tests.conftest import client_for
    from tests.factories import ContactFactory, UserFactory

    alice, bob = UserFactory(username="mp_alice2"), UserFactory(username="mp_bob2")
    contact = ContactFactory(userA=alice, userB=bob, status=2)
    response = client_for(bob).patch(f"/contacts/{contact.id}/", {"status": 1}, format="multipart")
    assert response.status_code == 200
    assert response.json()["status"] == 1
