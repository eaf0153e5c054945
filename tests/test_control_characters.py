"""Control characters never reach an .ics: refused in titles and descriptions on input (400 naming the field),
and left out of SUMMARY and DESCRIPTION on output for rows stored before the refusal.

RFC 5545 (3.3.11) allows no control character in TEXT but the tab; line breaks are written escaped (`\\n`)
by the iCalendar library, so tab, CR and LF stay allowed in both fields, as before.
"""

from __future__ import annotations

import datetime

import pytest
from icalendar import Calendar as ICalendar

from calendars.models import Calendar
from tests.conftest import client_for
from tests.factories import CalendarFactory, DayFactory, InvitationFactory

pytestmark = pytest.mark.django_db

# Every character RFC 5545 forbids in TEXT: the C0 controls but tab, LF and CR, and DEL (NUL is DRF's own 400).
FORBIDDEN = [chr(c) for c in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
DAY = {"date": "2030-01-02", "ranking": 1}


def message(char: str) -> list[str]:
    return [f"Control character U+{ord(char):04X} is not allowed; only tabs and line breaks are."]


class TestRefusedOnInput:
    @pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
    def test_create(self, auth_client, char):
        body = {"title": f"Kick{char}off", "description": f"Agen{char}da", "days": [DAY]}
        response = auth_client.post("/calendars/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"title": message(char), "description": message(char)}
        assert not Calendar.objects.exists()

    @pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x1b", "\x1c", "\x1f", "\x7f"], ids=lambda c: f"U+{ord(c):04X}")
    @pytest.mark.parametrize("field", ["title", "description"])
    def test_edit(self, auth_client, user, char, field):
        calendar = CalendarFactory(creator=user, title="Before", description="Before")
        day = DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)
        body = {"title": "After", "description": "After", "days": [{"id": day.pk, **DAY}], field: f"x{char}y"}
        response = auth_client.put(f"/calendars/{calendar.pk}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {field: message(char)}
        calendar.refresh_from_db()
        assert (calendar.title, calendar.description) == ("Before", "Before")

    def test_form_bodies_too(self, auth_client):
        body = {"title": "Kick\x1boff", "days[0]date": "2030-01-02"}
        response = auth_client.post("/calendars/", body, format="multipart")
        assert response.status_code == 400
        assert response.json()["title"] == message("\x1b")

    def test_nul_keeps_drf_s_own_message(self, auth_client):
        response = auth_client.post("/calendars/", {"title": "a\x00b", "days": [DAY]}, format="json")
        assert response.status_code == 400
        assert response.json() == {"title": ["Null characters are not allowed."]}

    def test_tab_and_line_breaks_stay_allowed(self, auth_client):
        body = {"title": "Kick-off\tweekly", "description": "Line one\r\nline two\n\tindented", "days": [DAY]}
        response = auth_client.post("/calendars/", body, format="json")
        assert response.status_code == 201
        assert response.json()["description"] == "Line one\r\nline two\n\tindented"

    def test_other_unicode_is_untouched(self, auth_client):
        text = "Caf\u00e9 \u2603 \u00a0nbsp \u0085nel \u2028ls \U0001f389"
        response = auth_client.post("/calendars/", {"title": text, "days": [DAY]}, format="json")
        assert response.status_code == 201
        assert response.json()["title"] == text


class TestLeftOutOnOutput:
    """Rows stored before the refusal: the .ics, the feed and the emailed invitation carry none of them."""

    @pytest.fixture
    def stored(self, user, other_user):
        every = "".join(FORBIDDEN)
        calendar = CalendarFactory(
            creator=user, title=f"Kick{every}off", description=f"Line\x0bone\r\nline\x1btwo\ttab{every}"
        )
        DayFactory(calendar=calendar, date=datetime.date(2030, 1, 2), ranking=1)
        InvitationFactory(calendar=calendar, invitee=other_user, status="accepted")
        meeting = {"date": "2030-01-02", "start_time": "09:00", "end_time": "10:00"}
        assert client_for(user).post(f"/calendars/{calendar.pk}/finalize/", meeting, format="json").status_code == 200
        return calendar

    def assert_clean(self, content: bytes) -> None:
        assert not any(char.encode() in content for char in FORBIDDEN), content
        event = ICalendar.from_ical(content).events[0]
        assert str(event["SUMMARY"]) == "Kickoff"
        assert str(event["DESCRIPTION"]) == "Lineone\nlinetwo\ttab"

    def test_ics_export(self, stored, auth_client):
        response = auth_client.get(f"/calendars/{stored.pk}/ics/")
        assert response.status_code == 200
        self.assert_clean(response.content)
        assert b"SUMMARY:Kickoff\r\n" in response.content
        assert b"DESCRIPTION:Lineone\\nlinetwo\ttab\r\n" in response.content

    def test_feed(self, stored, other_client):
        token = other_client.get("/calendars/feed-token/").json()["token"]
        response = other_client.get(f"/calendars/feed/{token}.ics")
        assert response.status_code == 200
        self.assert_clean(response.content)

    def test_emailed_invitation(self, stored, deliver):
        messages = deliver()
        assert len(messages) == 2
        for sent in messages:
            (part,) = sent.attachments
            assert part.get_filename() == "invite.ics"
            self.assert_clean(part.get_payload(decode=True))
