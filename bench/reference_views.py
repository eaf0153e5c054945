"""The benchmark's two references, served beside the API by bench.settings only.

`floor`: a plain Django view with a fixed small JSON body, the framework's floor.
`calendar_list_one_query`: the body of `GET /calendars/` (same envelope, fields and order)
built by PostgreSQL in one SQL query, authenticated with the same JWT: the limit for that payload.
"""

from __future__ import annotations

import functools
import json
import math

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from calendars.models import InvitationStatus
from oneonone.pagination import PageNumberPagination

FLOOR_BODY = b'{"status":"ok"}'

# Mirrors calendars.selectors.calendar_list and calendars.serializers.CalendarSerializer:
# member_of (creator or accepted invitee), newest first; days by (date, id); slots by
# (start_time, id); participants by invitee id. `json` (not `jsonb`) keeps the key order.
# The finalized meeting's instants use PostgreSQL's zone rules; a meeting spanning a DST change
# (calendars.scheduling.place_meeting's special case) is not reproduced: none in the bench data.
CALENDAR_PAGE_SQL = """
WITH member AS (
    SELECT c.id, c.created_at
    FROM calendars_calendar c
    WHERE c.creator_id = %(user_id)s
       OR EXISTS (
            SELECT 1 FROM invitations_invitation i
            WHERE i.calendar_id = c.id AND i.invitee_id = %(user_id)s AND i.status = %(accepted)s
       )
),
page AS (
    SELECT id, created_at FROM member ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s
)
SELECT
    u.is_active,
    (SELECT count(*) FROM member),
    (
        SELECT coalesce(json_agg(json_build_object(
            'id', c.id,
            'creator_username', cu.username,
            'title', c.title,
            'description', c.description,
            'timezone', c.timezone,
            'respond_by', CASE WHEN c.respond_by IS NULL THEN NULL ELSE
                to_char(c.respond_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                || CASE WHEN to_char(c.respond_by, 'US') <> '000000' THEN '.' || to_char(c.respond_by, 'US') ELSE '' END
                || 'Z' END,
            'responses', (
                SELECT json_build_object(
                    'invited', count(*),
                    'accepted', count(*) FILTER (WHERE i.status = %(accepted)s),
                    'pending', count(*) FILTER (WHERE i.status = 'pending'),
                    'rejected', count(*) FILTER (WHERE i.status = 'rejected'),
                    'with_availability', (
                        SELECT count(DISTINCT t.owner_id)
                        FROM calendars_timeslot t JOIN calendars_day d ON d.id = t.day_id
                        WHERE d.calendar_id = c.id AND (t.owner_id = c.creator_id OR EXISTS (
                            SELECT 1 FROM invitations_invitation a
                            WHERE a.calendar_id = c.id AND a.invitee_id = t.owner_id AND a.status = %(accepted)s
                        ))
                    )
                )
                FROM invitations_invitation i WHERE i.calendar_id = c.id
            ),
            'days', coalesce((
                SELECT json_agg(json_build_object(
                    'id', d.id,
                    'date', to_char(d.date, 'YYYY-MM-DD'),
                    'ranking', d.ranking,
                    'timeslots', coalesce((
                        SELECT json_agg(json_build_object(
                            'id', t.id,
                            'owner_username', o.username,
                            'start_time', to_char(t.start_time, 'HH24:MI:SS'),
                            'end_time', to_char(t.end_time, 'HH24:MI:SS'),
                            'preference', t.preference
                        ) ORDER BY t.start_time, t.id)
                        FROM calendars_timeslot t JOIN accounts_user o ON o.id = t.owner_id
                        WHERE t.day_id = d.id
                    ), '[]'::json)
                ) ORDER BY d.date, d.id)
                FROM calendars_day d
                WHERE d.calendar_id = c.id
            ), '[]'::json),
            'participants', coalesce((
                SELECT json_agg(i.invitee_id ORDER BY i.invitee_id)
                FROM invitations_invitation i
                WHERE i.calendar_id = c.id AND i.status = %(accepted)s
            ), '[]'::json),
            'finalized', CASE WHEN c.finalized_date IS NOT NULL THEN json_build_object(
                'date', to_char(c.finalized_date, 'YYYY-MM-DD'),
                'start_time', to_char(c.finalized_start_time, 'HH24:MI:SS'),
                'end_time', to_char(c.finalized_end_time, 'HH24:MI:SS'),
                'starts_at', to_char(f.starts_at AT TIME ZONE c.timezone, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE
                    WHEN f.starts_offset < interval '0' THEN '-' || to_char(-f.starts_offset, 'HH24:MI')
                    ELSE '+' || to_char(f.starts_offset, 'HH24:MI') END,
                'ends_at', to_char(f.ends_at AT TIME ZONE c.timezone, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE
                    WHEN f.ends_offset < interval '0' THEN '-' || to_char(-f.ends_offset, 'HH24:MI')
                    ELSE '+' || to_char(f.ends_offset, 'HH24:MI') END
            ) END
        ) ORDER BY p.created_at DESC, p.id DESC), '[]'::json)::text
        FROM page p
        JOIN calendars_calendar c ON c.id = p.id
        JOIN accounts_user cu ON cu.id = c.creator_id
        -- The finalized meeting's instants and their UTC offsets in the calendar's zone.
        CROSS JOIN LATERAL (
            SELECT i.starts_at, i.ends_at,
                   (i.starts_at AT TIME ZONE c.timezone) - (i.starts_at AT TIME ZONE 'UTC') AS starts_offset,
                   (i.ends_at AT TIME ZONE c.timezone) - (i.ends_at AT TIME ZONE 'UTC') AS ends_offset
            FROM (SELECT (c.finalized_date + c.finalized_start_time) AT TIME ZONE c.timezone AS starts_at,
                         (c.finalized_date + c.finalized_end_time) AT TIME ZONE c.timezone AS ends_at) i
        ) f
    )
FROM accounts_user u
WHERE u.id = %(user_id)s
"""

_jwt = JWTAuthentication()
_paginator = PageNumberPagination


@functools.cache
def _list_path() -> str:
    return reverse("calendar-list")


def floor(request: HttpRequest) -> HttpResponse:
    """A fixed small JSON body: no authentication, no database."""
    return HttpResponse(FLOOR_BODY, content_type="application/json")


def _unauthorized(detail) -> JsonResponse:
    response = JsonResponse(detail if isinstance(detail, dict) else {"detail": detail}, status=401)
    response["WWW-Authenticate"] = _jwt.authenticate_header(None)
    return response


def _user_id(request: HttpRequest) -> int | None:
    """The user id of a valid access token in the Authorization header (validated as DRF does, no query)."""
    header = _jwt.get_header(request)
    raw = _jwt.get_raw_token(header) if header else None
    if raw is None:
        return None
    return _jwt.get_validated_token(raw)[jwt_settings.USER_ID_CLAIM]


def _page_params(request: HttpRequest) -> tuple[int, int] | None:
    """(page number, page size) as DRF's PageNumberPagination reads them; None for an invalid page."""
    try:
        page_size = int(request.GET[_paginator.page_size_query_param])
        if page_size <= 0:
            raise ValueError
        page_size = min(page_size, _paginator.max_page_size)
    except (KeyError, ValueError):
        page_size = _paginator.page_size
    try:
        number = int(request.GET.get(_paginator.page_query_param, 1))
    except ValueError:
        return None
    return (number, page_size) if number >= 1 else None


def calendar_list_one_query(request: HttpRequest) -> HttpResponse:
    """Page N of the caller's calendars, the JSON built by PostgreSQL in one query."""
    try:
        user_id = _user_id(request)
    except (InvalidToken, AuthenticationFailed) as exc:
        return _unauthorized(exc.detail)
    if user_id is None:
        return _unauthorized("Authentication credentials were not provided.")
    params = _page_params(request)
    if params is None:
        return JsonResponse({"detail": "Invalid page."}, status=404)
    number, page_size = params
    with connection.cursor() as cursor:
        cursor.execute(
            CALENDAR_PAGE_SQL,
            {
                "user_id": user_id,
                "accepted": InvitationStatus.ACCEPTED.value,
                "limit": page_size,
                "offset": (number - 1) * page_size,
            },
        )
        row = cursor.fetchone()
    if row is None or not row[0]:
        return _unauthorized("User not found" if row is None else "User is inactive")
    _active, count, results = row
    pages = max(1, math.ceil(count / page_size))
    if number > pages:
        return JsonResponse({"detail": "Invalid page."}, status=404)
    # The links point at the real endpoint's pages, so the body is exactly GET /calendars/'s.
    query = request.META.get("QUERY_STRING", "")
    url = request.build_absolute_uri(_list_path() + (f"?{iri_to_uri(query)}" if query else ""))
    next_link = replace_query_param(url, _paginator.page_query_param, number + 1) if number < pages else None
    if number == 1:
        previous_link = None
    elif number == 2:
        previous_link = remove_query_param(url, _paginator.page_query_param)
    else:
        previous_link = replace_query_param(url, _paginator.page_query_param, number - 1)
    links = f'"next":{json.dumps(next_link)},"previous":{json.dumps(previous_link)}'
    body = f'{{"count":{count},{links},"results":{results}}}'
    return HttpResponse(body.encode(), content_type="application/json")
