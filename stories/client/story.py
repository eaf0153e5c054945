#!/usr/bin/env python3
"""The whole OneOnOne story through the client generated from the served schema (see docs/clients.md).

Usage: python stories/client/story.py http://127.0.0.1:8000

Three people register and log in, befriend, plan a meeting, mark when they are free (a slot, an
array of slots, a whole day at once, "if need be" too; one write sent again with its Idempotency-Key
after a lost answer), read the heat map, let the server rank the best times, fix the meeting,
download it as iCalendar and read their inboxes; one registers a webhook and sees it in her list.
Every call goes through the generated package `oneonone_client`, typed: request bodies are its
models, answers are parsed into its models, and each step checks what a user would see.
Prints one line per step and a last line `client: N passed, M failed[, K skipped]`; a failed
step skips the rest, as they build on it.
"""

from __future__ import annotations

import datetime
import secrets
import sys
import traceback
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from oneonone_client import AuthenticatedClient, Client
from oneonone_client.api.auth import auth_login, auth_logout, auth_me, auth_refresh, auth_register
from oneonone_client.api.calendars import calendars_create, calendars_retrieve
from oneonone_client.api.contacts import contacts_accept, contacts_add, contacts_friends_list, contacts_incoming_list
from oneonone_client.api.invitations import (
    calendars_invitations_answer,
    calendars_invitations_create,
    calendars_invitations_list,
    invitations_inbox,
)
from oneonone_client.api.scheduling import (
    calendars_availability,
    calendars_finalize,
    calendars_ics,
    calendars_suggestions,
)
from oneonone_client.api.timeslots import (
    calendars_day_timeslot_create,
    calendars_day_timeslot_list,
    calendars_day_timeslot_replace,
)
from oneonone_client.api.webhooks import webhooks_create, webhooks_list
from oneonone_client.models import (
    Availability,
    Calendar,
    CalendarCreate,
    CalendarCreateRequest,
    Contact,
    ContactAction,
    ContactStatusEnum,
    DayRequest,
    ErrorDetail,
    Finalize,
    InvitationCreate,
    InvitationEdit,
    InvitationEditStatusEnum,
    InvitationStatusEnum,
    Logout,
    Me,
    PaginatedInboxInvitationList,
    PaginatedInvitationList,
    PaginatedTimeSlotList,
    PaginatedUserSummaryList,
    PaginatedWebhookList,
    PreferenceEnum,
    SuggestionList,
    TimeSlot,
    TimeSlotBulkItem,
    TimeSlotRequest,
    TokenObtainPair,
    TokenObtainPairRequest,
    TokenRefresh,
    TokenRefreshRequest,
    User,
    UserRequest,
    ValidationErrorBody,
    WebhookEventTypeEnum,
    WebhookRequest,
    WebhookSecret,
)
from oneonone_client.models import Invitation as InvitationModel
from oneonone_client.types import Response

T = TypeVar("T")
# By value, so the story reads the same whether or not the schema names the members (x-enum-varnames).
FRIENDS, PENDING = ContactStatusEnum(1), ContactStatusEnum(2)
TIME_ZONE = "Europe/Berlin"
TIMEOUT = httpx.Timeout(15.0)


class StoryFailure(Exception):
    """A step saw something a user would call wrong."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StoryFailure(message)


def expect(response: Response[Any], status: int, kind: type[T] | None) -> T:
    """The answer has this status and parsed into this generated model (None: no body)."""
    body = response.content.decode(errors="replace")[:400]
    check(response.status_code == status, f"expected {status}, got {int(response.status_code)}: {body}")
    if kind is None:
        check(response.content == b"", f"expected no body, got {body!r}")
        return None  # type: ignore[return-value]
    check(isinstance(response.parsed, kind), f"expected a {kind.__name__}, got {type(response.parsed).__name__}")
    return response.parsed  # type: ignore[return-value]


class Person:
    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.username = username
        self.password = secrets.token_urlsafe(12)
        self.id = 0
        self.access = ""
        self.refresh = ""
        self._api: AuthenticatedClient | None = None

    @property
    def api(self) -> AuthenticatedClient:
        """A client signed in with the current access token (one connection pool per token)."""
        if self._api is None or self._api.token != self.access:
            self._api = AuthenticatedClient(
                base_url=self.base_url, token=self.access, timeout=TIMEOUT, raise_on_unexpected_status=True
            )
        return self._api


class Story:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.anonymous = Client(base_url=self.base_url, timeout=TIMEOUT, raise_on_unexpected_status=True)
        run = secrets.token_hex(3)  # fresh names, so the story also runs against a database in use
        self.ann, self.ben, self.cat = (Person(self.base_url, f"{name}_{run}") for name in ("ann", "ben", "cat"))
        today = datetime.date.today()
        self.first_date = today + datetime.timedelta(days=30)
        self.second_date = today + datetime.timedelta(days=31)
        self.calendar: CalendarCreate | None = None

    # --- the steps, in order ------------------------------------------------------------------

    def register_three_users(self) -> None:
        for person in (self.ann, self.ben, self.cat):
            body = UserRequest(
                username=person.username,
                password=person.password,
                password2=person.password,
                email=f"{person.username}@example.com",
            )
            user = expect(auth_register.sync_detailed(client=self.anonymous, body=body), 201, User)
            check(user.username == person.username, f"registered as {user.username!r}")
            check(user.email == f"{person.username}@example.com", f"email answered {user.email!r}")
            check("password" not in user.additional_properties, "the answer echoes the password")
            person.id = user.id
        password = secrets.token_urlsafe(12)
        again = UserRequest(username=self.ann.username.upper(), password=password, password2=password)
        errors = expect(auth_register.sync_detailed(client=self.anonymous, body=again), 400, ValidationErrorBody)
        check("username" in errors.additional_properties, f"duplicate username not named: {errors.to_dict()}")

    def log_in(self) -> None:
        for person in (self.ann, self.ben, self.cat):
            body = TokenObtainPairRequest(username=person.username, password=person.password)
            tokens = expect(auth_login.sync_detailed(client=self.anonymous, body=body), 200, TokenObtainPair)
            check(tokens.access.count(".") == 2 and tokens.refresh.count(".") == 2, "the tokens are not JWTs")
            person.access, person.refresh = tokens.access, tokens.refresh
        wrong = TokenObtainPairRequest(username=self.ann.username, password="not-" + self.ann.password)
        error = expect(auth_login.sync_detailed(client=self.anonymous, body=wrong), 401, ErrorDetail)
        check("credentials" in error.detail, f"wrong password answered {error.detail!r}")

    def refresh_rotates(self) -> None:
        old = self.ann.refresh
        body = TokenRefreshRequest(refresh=old)
        tokens = expect(auth_refresh.sync_detailed(client=self.anonymous, body=body), 200, TokenRefresh)
        check(tokens.refresh != old, "refresh answered the same refresh token (no rotation)")
        self.ann.access, self.ann.refresh = tokens.access, tokens.refresh
        stale = expect(auth_refresh.sync_detailed(client=self.anonymous, body=body), 401, ErrorDetail)
        check("blacklisted" in stale.detail.lower(), f"the old refresh token answered {stale.detail!r}")
        me = expect(auth_me.sync_detailed(client=self.ann.api), 200, Me)
        check((me.id, me.username) == (self.ann.id, self.ann.username), f"/auth/me/ answered {me.to_dict()}")

    def befriend(self) -> None:
        for friend in (self.ben, self.cat):
            body = ContactAction(username=friend.username)
            request = expect(contacts_add.sync_detailed(client=self.ann.api, body=body), 200, Contact)
            check(request.status == PENDING, f"a new request has status {request.status}")
            check((request.user_a, request.user_b) == (self.ann.id, friend.id), "the request names the wrong users")
            incoming = expect(contacts_incoming_list.sync_detailed(client=friend.api), 200, PaginatedUserSummaryList)
            check([u.username for u in incoming.results] == [self.ann.username], "the request is not in the inbox")
            body = ContactAction(username=self.ann.username)
            accepted = expect(contacts_accept.sync_detailed(client=friend.api, body=body), 200, Contact)
            check(accepted.status == FRIENDS, f"an accepted request has status {accepted.status}")
        friends = expect(contacts_friends_list.sync_detailed(client=self.ann.api), 200, PaginatedUserSummaryList)
        names = sorted(user.username for user in friends.results)
        check(names == sorted([self.ben.username, self.cat.username]), f"ann's friends are {names}")

    def create_calendar(self) -> None:
        body = CalendarCreateRequest(
            title="Kickoff",
            description="One hour, either day.",
            timezone=TIME_ZONE.lower(),  # any letter case; answered in the canonical one
            days=[
                DayRequest(
                    date=self.first_date,
                    ranking=1,
                    timeslots=[TimeSlotRequest(start_time="09:00", end_time="12:00")],
                ),
                DayRequest(date=self.second_date, ranking=2),
            ],
        )
        calendar = expect(calendars_create.sync_detailed(client=self.ann.api, body=body), 201, CalendarCreate)
        check(calendar.timezone == TIME_ZONE, f"time zone answered as {calendar.timezone!r}")
        check([(d.date, d.ranking) for d in calendar.days] == [(self.first_date, 1), (self.second_date, 2)], "days")
        check(all(isinstance(day.id, int) for day in calendar.days), "a day has no id")
        first_slots = calendar.days[0].timeslots
        check(
            [(s.owner_username, s.start_time, s.end_time) for s in first_slots]
            == [(self.ann.username, "09:00:00", "12:00:00")],
            "the initial timeslot is not ann's 09:00-12:00",
        )
        self.calendar = calendar

    def invite_two_friends(self) -> None:
        calendar = self.current_calendar()
        for friend in (self.ben, self.cat):
            body = InvitationCreate(invitee_username=friend.username)
            sent = calendars_invitations_create.sync_detailed(calendar.id, client=self.ann.api, body=body)
            invitation = expect(sent, 201, InvitationModel)
            check(invitation.status == InvitationStatusEnum.PENDING, f"a new invitation is {invitation.status}")
            check(invitation.inviter_username == self.ann.username, "the inviter is not ann")
            check(invitation.invitee_username == friend.username, "the invitee is not the friend invited")
        twice = InvitationCreate(invitee_username=self.ben.username)
        sent = calendars_invitations_create.sync_detailed(calendar.id, client=self.ann.api, body=twice)
        expect(sent, 409, ErrorDetail)

    def one_accepts_one_stays_pending(self) -> None:
        calendar = self.current_calendar()
        inbox = invitations_inbox.sync_detailed(client=self.ben.api, status=InvitationStatusEnum.PENDING)
        pending = expect(inbox, 200, PaginatedInboxInvitationList)
        check([(i.calendar_id, i.calendar_title) for i in pending.results] == [(calendar.id, "Kickoff")], "inbox")
        mine = pending.results[0]
        answer = InvitationEdit(status=InvitationEditStatusEnum.ACCEPTED)
        answered = calendars_invitations_answer.sync_detailed(calendar.id, mine.id, client=self.ben.api, body=answer)
        expect(answered, 204, None)
        listed = calendars_invitations_list.sync_detailed(calendar.id, client=self.ann.api)
        statuses = {i.invitee_username: i.status for i in expect(listed, 200, PaginatedInvitationList).results}
        wanted = {self.ben.username: InvitationStatusEnum.ACCEPTED, self.cat.username: InvitationStatusEnum.PENDING}
        check(statuses == wanted, f"the invitations are {statuses}")
        seen = expect(calendars_retrieve.sync_detailed(calendar.id, client=self.ben.api), 200, Calendar)
        check(seen.participants == [self.ben.id], f"participants are {seen.participants}")

    def add_availability(self) -> None:
        calendar = self.current_calendar()
        first, second = calendar.days[0].id, calendar.days[1].id
        # Ben saves his whole first day with one PUT; the same PUT again keeps the same slots (ids).
        whole_day = [
            TimeSlotBulkItem(start_time="10:00", end_time="11:30"),
            TimeSlotBulkItem(start_time="12:00", end_time="13:00", preference=PreferenceEnum.IF_NEED_BE),
        ]
        ids = []
        for _ in range(2):
            saved = calendars_day_timeslot_replace.sync_detailed(
                calendar.id, first, client=self.ben.api, body=whole_day
            )
            slots = expect(saved, 200, list)
            check(all(isinstance(slot, TimeSlot) for slot in slots), f"the day answered {slots!r}")
            check(
                [(s.owner_username, s.start_time, s.end_time, s.preference) for s in slots]
                == [
                    (self.ben.username, "10:00:00", "11:30:00", PreferenceEnum.YES),
                    (self.ben.username, "12:00:00", "13:00:00", PreferenceEnum.IF_NEED_BE),
                ],
                f"ben's day is {[s.to_dict() for s in slots]}",
            )
            ids.append([slot.id for slot in slots])
        check(ids[0] == ids[1], f"saving the same day again changed the ids: {ids}")
        # Ann adds two slots to the second day at once (an array: all or nothing, answered in the order sent).
        body = [
            TimeSlotRequest(start_time="14:00", end_time="15:00"),
            TimeSlotRequest(start_time="15:00", end_time="16:00", preference=PreferenceEnum.IF_NEED_BE),
        ]
        made = calendars_day_timeslot_create.sync_detailed(calendar.id, second, client=self.ann.api, body=body)
        both = expect(made, 201, list)
        check(
            [(s.start_time, s.preference) for s in both]
            == [("14:00:00", PreferenceEnum.YES), ("15:00:00", PreferenceEnum.IF_NEED_BE)],
            f"ann's slots are {[s.to_dict() for s in both]}",
        )
        body = TimeSlotRequest(start_time="15:00", end_time="16:00")
        made = calendars_day_timeslot_create.sync_detailed(calendar.id, second, client=self.ben.api, body=body)
        slot = expect(made, 201, TimeSlot)
        check((slot.owner_username, slot.start_time) == (self.ben.username, "15:00:00"), "wrong slot answered")
        # A day whose second slot ends before it starts: 400 keyed by the item's index, nothing written.
        bad = [
            TimeSlotBulkItem(start_time="09:00", end_time="10:00"),
            TimeSlotBulkItem(start_time="12:00", end_time="11:00"),
        ]
        refused = calendars_day_timeslot_replace.sync_detailed(calendar.id, first, client=self.ben.api, body=bad)
        errors = expect(refused, 400, ValidationErrorBody)
        check(
            list(errors.additional_properties) == ["1"] and list(errors.additional_properties["1"]) == ["end_time"],
            f"the bad day answered {errors.to_dict()}",
        )
        # The pending invitee sees the calendar but is not a member yet: 403, one slot or a whole day.
        body = TimeSlotRequest(start_time="10:00", end_time="11:00")
        refused = calendars_day_timeslot_create.sync_detailed(calendar.id, first, client=self.cat.api, body=body)
        expect(refused, 403, ErrorDetail)
        refused = calendars_day_timeslot_replace.sync_detailed(calendar.id, first, client=self.cat.api, body=whole_day)
        expect(refused, 403, ErrorDetail)
        # Overlapping one's own slot: 400 naming the problem.
        body = TimeSlotRequest(start_time="11:00", end_time="12:00")
        clash = calendars_day_timeslot_create.sync_detailed(calendar.id, first, client=self.ben.api, body=body)
        expect(clash, 400, ValidationErrorBody)
        listed = calendars_day_timeslot_list.sync_detailed(calendar.id, first, client=self.cat.api)
        owners = sorted({slot.owner_username for slot in expect(listed, 200, PaginatedTimeSlotList).results})
        check(owners == sorted([self.ann.username, self.ben.username]), f"the first day's slots are by {owners}")

    def resend_after_a_lost_answer(self) -> None:
        """A write whose answer was lost is sent again with its Idempotency-Key: done once, answered twice."""
        calendar = self.current_calendar()
        second = calendar.days[1].id
        key = str(uuid.uuid4())
        body = TimeSlotRequest(start_time="17:00", end_time="18:00")

        def send(body: TimeSlotRequest) -> Response[Any]:
            return calendars_day_timeslot_create.sync_detailed(
                calendar.id, second, client=self.ann.api, body=body, idempotency_key=key
            )

        first = expect(send(body), 201, TimeSlot)  # ... and say the network lost this answer
        again = send(body)
        slot = expect(again, 201, TimeSlot)
        check(again.headers.get("idempotent-replayed") == "true", f"not a replay: {dict(again.headers)}")
        check(slot.to_dict() == first.to_dict(), f"the replay answered {slot.to_dict()}, first {first.to_dict()}")
        listed = calendars_day_timeslot_list.sync_detailed(calendar.id, second, client=self.ann.api)
        mine = [s for s in expect(listed, 200, PaginatedTimeSlotList).results if s.start_time == "17:00:00"]
        check([s.id for s in mine] == [first.id], f"the slot exists {len(mine)} times")
        other = send(TimeSlotRequest(start_time="19:00", end_time="20:00"))
        error = expect(other, 422, ErrorDetail)
        check("another request" in error.detail, f"the key reused for another body answered {error.detail!r}")

    def heat_map(self) -> None:
        calendar = self.current_calendar()
        # Whoever sees the calendar reads the grid: the pending invitee too.
        grid = expect(calendars_availability.sync_detailed(calendar.id, client=self.cat.api), 200, Availability)
        check(grid.members == sorted([self.ann.username, self.ben.username]), f"members are {grid.members}")
        check([day.date for day in grid.days] == [self.first_date, self.second_date], "days not in date order")
        ann, ben = self.ann.username, self.ben.username
        first = [(i.start_time, i.end_time, i.yes, i.if_need_be, i.count) for i in grid.days[0].intervals]
        check(
            first
            == [
                ("09:00:00", "10:00:00", [ann], [], 1),
                ("10:00:00", "11:30:00", sorted([ann, ben]), [], 2),
                ("11:30:00", "12:00:00", [ann], [], 1),
                ("12:00:00", "13:00:00", [], [ben], 1),
            ],
            f"the first day's grid is {first}",
        )

    def get_suggestions(self) -> None:
        calendar = self.current_calendar()
        found = calendars_suggestions.sync_detailed(calendar.id, client=self.ben.api, duration=60)
        answer = expect(found, 200, SuggestionList)
        check(answer.reason is None and len(answer.suggestions) >= 2, f"no suggestions: {answer.to_dict()}")
        top, runner_up = answer.suggestions[0], answer.suggestions[1]
        check(
            (top.date, top.start_time, top.end_time) == (self.first_date, "10:00:00", "11:00:00"),
            f"the top window is {top.date} {top.start_time}-{top.end_time}",
        )
        check(sorted(top.available) == sorted([self.ann.username, self.ben.username]), f"available: {top.available}")
        check(top.missing == [] and top.pending == [self.cat.username], f"missing {top.missing}, pending {top.pending}")
        check(top.if_need_be == [] and top.score.yes_count == 2, f"if need be {top.if_need_be}, {top.score.to_dict()}")
        check(
            (top.score.available_count, top.score.participant_total, top.score.day_ranking) == (2, 3, 1),
            f"the score is {top.score.to_dict()}",
        )
        expected_start = datetime.datetime.combine(self.first_date, datetime.time(10), ZoneInfo(TIME_ZONE))
        check(top.starts_at == expected_start, f"starts_at is {top.starts_at.isoformat()}")
        check(
            (runner_up.date, runner_up.start_time) == (self.second_date, "15:00:00"),
            f"the second window is {runner_up.date} {runner_up.start_time}",
        )
        pending_invitee = calendars_suggestions.sync_detailed(calendar.id, client=self.cat.api)
        expect(pending_invitee, 403, ErrorDetail)

    def finalize(self) -> None:
        calendar = self.current_calendar()
        body = Finalize(date=self.first_date, start_time="10:00", end_time="11:00")
        refused = calendars_finalize.sync_detailed(calendar.id, client=self.ben.api, body=body)
        expect(refused, 403, ErrorDetail)
        fixed = expect(calendars_finalize.sync_detailed(calendar.id, client=self.ann.api, body=body), 200, Calendar)
        check(fixed.finalized is not None, "the answer shows no finalized meeting")
        later = Finalize(date=self.first_date, start_time="10:30", end_time="11:30")
        expect(calendars_finalize.sync_detailed(calendar.id, client=self.ann.api, body=later), 409, ErrorDetail)
        slot = TimeSlotRequest(start_time="18:00", end_time="19:00")
        frozen = calendars_day_timeslot_create.sync_detailed(
            calendar.id, calendar.days[0].id, client=self.ben.api, body=slot
        )
        expect(frozen, 409, ErrorDetail)
        day = [TimeSlotBulkItem(start_time="18:00", end_time="19:00")]
        frozen = calendars_day_timeslot_replace.sync_detailed(
            calendar.id, calendar.days[0].id, client=self.ben.api, body=day
        )
        expect(frozen, 409, ErrorDetail)

    def read_the_calendar(self) -> None:
        calendar = self.current_calendar()
        seen = expect(calendars_retrieve.sync_detailed(calendar.id, client=self.ben.api), 200, Calendar)
        meeting = seen.finalized
        if meeting is None:
            raise StoryFailure("the calendar shows no finalized meeting")
        check(
            (meeting.date, meeting.start_time, meeting.end_time) == (self.first_date, "10:00:00", "11:00:00"),
            f"the meeting is {meeting.to_dict()}",
        )
        tz = ZoneInfo(TIME_ZONE)
        check(
            meeting.starts_at == datetime.datetime.combine(self.first_date, datetime.time(10), tz)
            and meeting.ends_at == datetime.datetime.combine(self.first_date, datetime.time(11), tz),
            f"the meeting runs {meeting.starts_at.isoformat()} to {meeting.ends_at.isoformat()}",
        )
        check(meeting.starts_at.utcoffset() is not None, "starts_at has no UTC offset")

    def download_the_ics(self) -> None:
        calendar = self.current_calendar()
        response = calendars_ics.sync_detailed(calendar.id, client=self.ben.api)
        text = expect(response, 200, str)
        check(response.headers["content-type"].startswith("text/calendar"), response.headers["content-type"])
        check("attachment" in response.headers.get("content-disposition", ""), "not offered as a download")
        start = f"DTSTART;TZID={TIME_ZONE}:{self.first_date:%Y%m%d}T100000"
        check(text.startswith("BEGIN:VCALENDAR") and start in text, f"the document lacks {start}: {text[:300]!r}")
        check("SUMMARY:Kickoff" in text and self.ben.username in text, "the event lacks its title or attendee")
        expect(calendars_ics.sync_detailed(calendar.id, client=self.cat.api), 403, ErrorDetail)

    def inboxes(self) -> None:
        calendar = self.current_calendar()
        cat = expect(invitations_inbox.sync_detailed(client=self.cat.api), 200, PaginatedInboxInvitationList)
        check(
            [(i.calendar_id, i.status) for i in cat.results] == [(calendar.id, InvitationStatusEnum.PENDING)],
            f"cat's inbox: {[i.to_dict() for i in cat.results]}",
        )
        check(cat.results[0].invited_at.tzinfo is not None, "invited_at has no time zone")
        accepted = invitations_inbox.sync_detailed(client=self.ben.api, status=InvitationStatusEnum.ACCEPTED)
        ben = expect(accepted, 200, PaginatedInboxInvitationList)
        check([i.calendar_title for i in ben.results] == ["Kickoff"], "ben's accepted invitations")
        empty = invitations_inbox.sync_detailed(client=self.ann.api)
        check(expect(empty, 200, PaginatedInboxInvitationList).count == 0, "ann invited herself?")

    def register_a_webhook(self) -> None:
        # The host is on the server's WEBHOOK_ALLOWED_HOSTS (scripts/ci/client.sh): nothing is resolved or sent.
        url = f"https://hooks.client-story.test/{self.ann.username}"
        events = [WebhookEventTypeEnum("calendar.finalized"), WebhookEventTypeEnum("calendar.unfinalized")]
        body = WebhookRequest(url=url, events=events, description="calendar sync")
        made = expect(webhooks_create.sync_detailed(client=self.ann.api, body=body), 201, WebhookSecret)
        check(made.secret.startswith("whsec_"), f"the secret is {made.secret[:10]}...")
        listed = expect(webhooks_list.sync_detailed(client=self.ann.api), 200, PaginatedWebhookList)
        check(
            [(w.id, w.url, w.events, w.active) for w in listed.results] == [(made.id, url, events, True)],
            f"ann's webhooks: {[w.to_dict() for w in listed.results]}",
        )
        check("secret" not in listed.results[0].to_dict(), "the list shows the secret")
        others = expect(webhooks_list.sync_detailed(client=self.ben.api), 200, PaginatedWebhookList)
        check(others.count == 0, "ben sees ann's webhook")

    def log_out(self) -> None:
        body = TokenRefreshRequest(refresh=self.ann.refresh)
        expect(auth_logout.sync_detailed(client=self.anonymous, body=Logout(refresh=self.ann.refresh)), 204, None)
        expect(auth_refresh.sync_detailed(client=self.anonymous, body=body), 401, ErrorDetail)

    # --- helpers ------------------------------------------------------------------------------

    def current_calendar(self) -> CalendarCreate:
        check(self.calendar is not None, "no calendar was created")
        return self.calendar  # type: ignore[return-value]

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("register three users", self.register_three_users),
            ("log in", self.log_in),
            ("refresh rotates the token", self.refresh_rotates),
            ("befriend (add, accept)", self.befriend),
            ("create a calendar with days and a time zone", self.create_calendar),
            ("invite two friends", self.invite_two_friends),
            ("one accepts, one stays pending", self.one_accepts_one_stays_pending),
            ("add availability", self.add_availability),
            ("a write sent again after a lost answer", self.resend_after_a_lost_answer),
            ("the heat map", self.heat_map),
            ("best meeting times", self.get_suggestions),
            ("finalize", self.finalize),
            ("read the finalized calendar", self.read_the_calendar),
            ("download the iCalendar file", self.download_the_ics),
            ("inboxes", self.inboxes),
            ("register a webhook and see it in the list", self.register_a_webhook),
            ("log out", self.log_out),
        ]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    story = Story(argv[1])
    passed = failed = skipped = 0
    for name, step in story.steps():
        if failed:
            skipped += 1
            print(f"  skip  {name}")
            continue
        try:
            step()
        except StoryFailure as exc:
            failed += 1
            print(f"  FAIL  {name}: {exc}")
        except Exception:  # a crash in the generated code is a failure to report, not to hide
            failed += 1
            print(f"  FAIL  {name}: crashed")
            traceback.print_exc()
        else:
            passed += 1
            print(f"  ok    {name}")
    summary = f"client: {passed} passed, {failed} failed"
    print(summary + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
