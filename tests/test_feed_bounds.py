"""The public iCalendar feed cannot be made slow: a bounded number of meetings, time-zone rules only for the
years of those meetings, a throttle per token and per address, and a strong ETag with 304.

The attack of issue 14: meetings in 60 zones, in year 2 and year 9998 (stored before the window of dates
existed), made the feed compute every zone's rules for ten thousand years (31 s, a gunicorn worker
killed). The work is counted here, not timed: VTIMEZONE components and their onsets (each observance's
DTSTART and RDATEs). `bench/bench_feed.py` prints the time.
"""

from __future__ import annotations

import datetime
import hashlib
import zoneinfo

import pytest
from icalendar import Calendar as ICalendar

from calendars import ics
from calendars.models import FEED_MAX_MEETINGS, Calendar, FeedToken, Invitation
from calendars.throttles import FeedAddressThrottle, FeedTokenThrottle
from tests.factories import CalendarFactory, UserFactory

pytestmark = pytest.mark.django_db

ZONES = sorted(
    zone
    for zone in zoneinfo.available_timezones()
    if zone.startswith(("Europe/", "America/", "Australia/")) and "/" in zone and zone.count("/") == 1
)[:60]


def finalized(owner, *, zone: str, day: datetime.date, creator=None, start: int = 9) -> Calendar:
    """A calendar `owner` takes part in (or created), fixed on `day` at `start`:00 in `zone`, written directly."""
    calendar = CalendarFactory(creator=creator or owner, timezone=zone, title=f"{zone} {day.isoformat()}")
    if creator is not None:
        Invitation.objects.create(calendar=calendar, invitee=owner, inviter=creator, status="accepted")
    Calendar.objects.filter(pk=calendar.pk).update(
        finalized_date=day,
        finalized_start_time=datetime.time(start),
        finalized_end_time=datetime.time(start, 30),
        finalized_at=datetime.datetime(2029, 1, 1, tzinfo=datetime.UTC),
        schedule_revision=1,
    )
    return calendar


def feed_url(owner) -> str:
    token, _ = FeedToken.objects.get_or_create(
        user=owner,
        defaults={
            "token": f"t{owner.pk}",
            "digest": hashlib.sha256(f"t{owner.pk}".encode()).hexdigest(),
            "created_at": datetime.datetime(2029, 1, 1, tzinfo=datetime.UTC),
        },
    )
    return f"/calendars/feed/{token.token}.ics"


def onsets(vtimezone) -> int:
    """How many onsets a VTIMEZONE lists: each observance's DTSTART and every RDATE (the work it took)."""
    count = 0
    for observance in vtimezone.subcomponents:
        count += 1
        rdates = observance.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            count += len(rdate.dts)
    return count


@pytest.fixture
def owner():
    return UserFactory(username="owner")


def test_the_attack_sixty_zones_in_year_2_and_year_9998(owner, api_client):
    host = UserFactory(username="host")
    for zone in ZONES:
        finalized(owner, zone=zone, day=datetime.date(2, 3, 1), creator=host)
        finalized(owner, zone=zone, day=datetime.date(9998, 7, 1), creator=host)
    assert Calendar.objects.filter(finalized_date__isnull=False).count() == 120

    response = api_client.get(feed_url(owner))
    assert response.status_code == 200
    ical = ICalendar.from_ical(response.content)
    # The cap: the 60 upcoming meetings (year 9998), then the 40 latest past ones (year 2).
    assert len(ical.events) == FEED_MAX_MEETINGS == 100
    assert sum(event.start.year == 9998 for event in ical.events) == 60
    held = {(event.start.tzinfo.key, event.start.year) for event in ical.events}
    zones = {zone for zone, _ in held}
    assert {tz.tz_name for tz in ical.timezones} <= zones
    # Rules only for the years of the meetings: at most 3 onsets a zone and year (the observance in force on
    # 1 January, and a year's two changes), where every year from 1 to 9999 would be some 20,000 a zone.
    assert len(ical.timezones) >= 50  # zones whose rules the library could compute for those years
    assert sum(len(tz.subcomponents) for tz in ical.timezones) <= 3 * len(held)
    assert sum(onsets(tz) for tz in ical.timezones) <= 3 * len(held)


def test_rules_for_the_years_of_the_meetings_only():
    berlin = ics.zone_rules("Europe/Berlin", {2030, 2031, 2039})
    starts = sorted(
        [sub.DTSTART for sub in berlin.subcomponents]
        + [dt.dt for sub in berlin.subcomponents for rdate in _list(sub.get("RDATE")) for dt in rdate.dts]
    )
    assert [s.year for s in starts] == [2030, 2030, 2030, 2031, 2031, 2039, 2039, 2039]
    assert "COMMENT" not in berlin
    assert ics.zone_rules("No/Such_Zone", {2030}) is None
    # At the ends of time: year 1 has its rules; for 9999 the library's search runs past datetime's range,
    # so there are none (the event keeps its TZID), and no error.
    assert len(ics.zone_rules("Europe/Berlin", {1}).subcomponents) == 1
    assert ics.zone_rules("Europe/Berlin", {9999}) is None


def _list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_the_soonest_upcoming_then_the_latest_past(owner, api_client):
    today = datetime.date(2029, 7, 1)  # the suite's pinned today (tests/conftest.py)
    days = [today + datetime.timedelta(days=n) for n in range(-30, 100)]  # 30 past (yesterday counts), 100 ahead
    for day in days:
        finalized(owner, zone="UTC", day=day)
    ical = ICalendar.from_ical(api_client.get(feed_url(owner)).content)
    held = [event.start.date() for event in ical.events]
    assert held == [today - datetime.timedelta(days=1), *[today + datetime.timedelta(days=n) for n in range(99)]]
    # Fewer upcoming ones leave room for the latest past ones, still soonest first in the document.
    Calendar.objects.filter(finalized_date__gt=today + datetime.timedelta(days=9)).delete()
    ical = ICalendar.from_ical(api_client.get(feed_url(owner)).content)
    held = [event.start.date() for event in ical.events]
    assert held == [today + datetime.timedelta(days=n) for n in range(-30, 10)]


class TestEtag:
    def test_strong_etag_and_304(self, owner, api_client):
        finalized(owner, zone="Europe/Berlin", day=datetime.date(2030, 1, 2))
        first = api_client.get(feed_url(owner))
        etag = first["ETag"]
        assert etag == f'"{hashlib.sha256(first.content).hexdigest()}"'
        assert first["Cache-Control"] == "private, no-cache"
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = api_client.get(feed_url(owner), HTTP_IF_NONE_MATCH=sent)
            assert again.status_code == 304, sent
            assert again.content == b""
            assert (again["ETag"], again["Cache-Control"]) == (etag, "private, no-cache")
        assert api_client.get(feed_url(owner), HTTP_IF_NONE_MATCH='"other"').status_code == 200
        assert api_client.get(feed_url(owner), HTTP_IF_NONE_MATCH="garbage, ,").status_code == 200

    def test_a_change_changes_the_etag(self, owner, api_client):
        calendar = finalized(owner, zone="Europe/Berlin", day=datetime.date(2030, 1, 2))
        etag = api_client.get(feed_url(owner))["ETag"]
        assert api_client.get(feed_url(owner))["ETag"] == etag  # stable while nothing changes
        Calendar.objects.filter(pk=calendar.pk).update(title="Renamed")
        response = api_client.get(feed_url(owner), HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag

    def test_an_unknown_token_is_404_whatever_the_etag(self, api_client):
        response = api_client.get("/calendars/feed/nope.ics", HTTP_IF_NONE_MATCH="*")
        assert response.status_code == 404


class TestThrottles:
    @pytest.fixture
    def rates(self, monkeypatch):
        monkeypatch.setattr(FeedTokenThrottle, "THROTTLE_RATES", {"feed_token": "3/hour", "feed_address": "5/hour"})
        monkeypatch.setattr(FeedAddressThrottle, "THROTTLE_RATES", {"feed_token": "3/hour", "feed_address": "5/hour"})

    def test_the_defaults(self):
        from django.conf import settings

        rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        assert (rates["feed_token"], rates["feed_address"]) == ("60/hour", "600/hour")

    def test_per_token_from_any_address(self, rates, owner, api_client):
        url = feed_url(owner)
        codes = [api_client.get(url, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]
        response = api_client.get(url, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 429
        assert response["Content-Type"] == "application/json"
        assert int(response["Retry-After"]) > 3500
        assert response.json()["detail"].startswith("Request was throttled.")
        # Another feed is not held by this one's count.
        assert api_client.get(feed_url(UserFactory(username="other")), REMOTE_ADDR="10.0.0.9").status_code == 200

    def test_per_address_whatever_the_token(self, rates, api_client):
        owners = [UserFactory(username=f"o{n}") for n in range(3)]
        codes = [api_client.get(feed_url(o), REMOTE_ADDR="10.0.1.1").status_code for o in owners]
        codes += [api_client.get("/calendars/feed/guess.ics", REMOTE_ADDR="10.0.1.1").status_code for _ in range(3)]
        assert codes == [200, 200, 200, 404, 404, 429]  # guessing tokens counts too
        assert api_client.get(feed_url(owners[0]), REMOTE_ADDR="10.0.1.2").status_code == 200
