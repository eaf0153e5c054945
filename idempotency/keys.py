"""Idempotency-Key: a write sent again with the same key gets the first answer instead of being done twice.

A keyed write (`begin`, then `Attempt.finish`), all in one transaction:

1. claim the key: insert the row (user, key, method, path, fingerprint). On PostgreSQL the same statement
   takes a transaction-scoped advisory lock on (user, key) first, so a second request with the key while
   the first runs is told at once (409) instead of waiting, and a server that dies releases the lock with
   its connection. On SQLite writers are serialized: the claim waits for the first request to commit,
   then finds its row;
2. when the key was claimed, run the request and store its answer in the row (`finish`), so the change
   and its answer commit together or not at all. An answer that says "not now" (409, 429, ...) or a 5xx
   rolls the whole request back, so a resend does the work;
3. when the row exists: the same request (method, path, body) is answered the stored answer again
   (`Replay`), another one is a 422; no row visible yet means the first is still running: 409.

Rows older than IDEMPOTENCY_KEY_HOURS count as absent and are deleted by a periodic task (tasks.py).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import Atomic
from django.http import HttpResponse, RawPostDataException
from django.http.response import HttpResponseBase
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request

from idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
META_NAME = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# 1 to 255 printable ASCII characters (space included; HTTP drops it around a value anyway).
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
KEY_RULE = "The Idempotency-Key header must be 1 to 255 printable ASCII characters."
# Answers that say "not now" rather than what the request did: never stored (nor is any 5xx), and the
# request is rolled back, so the same key with the same request does the work when it is sent again.
NOT_FINAL = frozenset({408, 409, 423, 425, 429})
# The headers of an answer that belong to it; the rest (Allow, Vary, CORS, security) the view and the
# middleware add to a replay as they did to the first answer.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Content-Language",
    "Location",
    "Link",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Retry-After",
)
RETRY_AFTER_SECONDS = 1


class KeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "A request with this Idempotency-Key is still in progress; send it again after Retry-After seconds."
    )
    default_code = "idempotency_key_in_use"
    wait = RETRY_AFTER_SECONDS  # DRF's exception handler turns it into Retry-After


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


class Replay(Exception):
    """The stored answer of the first request with this key; the view answers it as it is."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replayed")
        self.response = response


def parse_key(value: str) -> str:
    if not KEY_PATTERN.fullmatch(value):
        raise exceptions.ValidationError({HEADER: [KEY_RULE]})
    return value


def lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def _canonical_body(media_type: str, body: bytes) -> bytes:
    """JSON re-serialized with sorted keys and no spaces, so key order and layout do not matter; else the bytes."""
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return body
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return body


def _body(request: Request) -> bytes:
    django_request = getattr(request, "_request", request)
    try:
        return django_request.body
    except RawPostDataException:
        # A multipart form read already (a session's CSRF check reads the form): its fields and files.
        fields = sorted(django_request.POST.lists())
        files = sorted((name, f.name, f.size) for name, f in django_request.FILES.items())
        return json.dumps([fields, files]).encode()


def fingerprint(request: Request) -> str:
    """SHA-256 of the method, the path with its query string, the media type and the (canonical) body."""
    media_type = getattr(request, "_request", request).content_type.lower()
    if request.method is None:  # pragma: no cover - only an HttpRequest made by hand has none
        raise ValueError("a request without a method")
    digest = hashlib.sha256()
    for part in (request.method, request.get_full_path(), media_type):
        digest.update(part.encode("utf-8", "backslashreplace") + b"\n")
    digest.update(_canonical_body(media_type, _body(request)))
    return digest.hexdigest()


def _lock_id(user_id: int, key: str) -> int:
    """A signed 64-bit number for pg_try_advisory_xact_lock; a collision only makes a request wait its turn."""
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claim(*, user_id: int, key: str, method: str, path: str, fingerprint: str) -> int | None:
    """Insert the row of a new key in one statement; its id, or None when the key is taken (or, on
    PostgreSQL, when another transaction holds its lock: that request is still running)."""
    # Names from the model, quoted; every value is a bound parameter.
    q = connection.ops.quote_name
    table = q(IdempotencyKey._meta.db_table)
    columns = ", ".join(q(c) for c in ("user_id", "key", "method", "path", "fingerprint", "created_at"))
    conflict = f"ON CONFLICT ({q('user_id')}, {q('key')}) DO NOTHING RETURNING {q('id')}"
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    values: list[int | str | None] = [user_id, key, method, path, fingerprint, created_at]
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT %s::bigint, %s, %s, %s, %s, %s::timestamptz "
            f"WHERE pg_try_advisory_xact_lock(%s::bigint) {conflict}"
        )
        values.append(_lock_id(user_id, key))
    elif connection.vendor == "sqlite":
        sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s) {conflict}"  # noqa: S608
    else:  # pragma: no cover - the project runs on these two
        raise NotImplementedError(f"Idempotency-Key is not implemented for {connection.vendor}")
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _store_answer(record_id: int, response: HttpResponse) -> None:
    if hasattr(response, "render"):
        response.render()  # DRF renders late; a no-op when Django renders it again
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    # By hand like the claim (the ORM's UPDATE costs three times the CPU), on every keyed write.
    q = connection.ops.quote_name
    sql = (
        f"UPDATE {q(IdempotencyKey._meta.db_table)} SET {q('status_code')} = %s, {q('headers')} = %s, "  # noqa: S608
        f"{q('body')} = %s WHERE {q('id')} = %s"
    )
    headers_value = IdempotencyKey._meta.get_field("headers").get_db_prep_value(headers, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [response.status_code, headers_value, response.content, record_id])


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(stored.body or b""), status=stored.status_code)
    del response["Content-Type"]  # the stored headers say what it was (a 204 has none)
    for name, value in (stored.headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


@dataclass
class Attempt:
    """A keyed request that claimed its key: its transaction is open until `finish` (or `abandon`)."""

    record_id: int
    atomic: Atomic
    database_error: bool = False  # a query failed while answering: nothing is stored

    def finish(self, response: HttpResponseBase) -> HttpResponseBase:
        """Store a final answer with the change and commit; roll back anything else."""
        try:
            if self.stores(response.status_code):
                if not isinstance(response, HttpResponse):  # streaming (StreamingHttpResponse): no content
                    raise TypeError("a streaming answer cannot be stored for an Idempotency-Key")
                _store_answer(self.record_id, response)
            else:
                transaction.set_rollback(True)
        except BaseException:
            self.atomic.__exit__(*sys.exc_info())
            raise
        self.atomic.__exit__(None, None, None)
        return response

    def stores(self, status_code: int) -> bool:
        """A final answer: 2xx, or a 4xx that is not a "not now" (NOT_FINAL); never one after a database error."""
        return 200 <= status_code < 500 and status_code not in NOT_FINAL and not self.database_error

    def abandon(self) -> None:
        """The request raised: roll back the change and the claim (call while the exception is handled)."""
        self.atomic.__exit__(*sys.exc_info())


def begin(request: Request) -> Attempt | None:
    """Start a write with an Idempotency-Key; None when there is no key to honour (no header, not a
    write, nobody signed in). Raises the 400, 409 or 422 to answer, or `Replay` with the stored answer."""
    raw = request.META.get(META_NAME)
    if raw is None or request.method not in WRITE_METHODS or not request.user.is_authenticated:
        return None
    key = parse_key(raw)
    request_fingerprint = fingerprint(request)
    claim = partial(
        _claim,
        user_id=request.user.pk,
        key=key,
        method=request.method,
        path=request.get_full_path(),
        fingerprint=request_fingerprint,
    )
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        record_id = claim()
        stored = None if record_id is not None else _stored(request.user.pk, key)
        if stored is not None and stored.created_at < timezone.now() - lifetime():
            # Past its lifetime and not purged yet: forgotten, as if it had been.
            IdempotencyKey.objects.filter(pk=stored.pk).delete()
            record_id = claim()
            stored = None if record_id is not None else _stored(request.user.pk, key)
    except BaseException:
        atomic.__exit__(*sys.exc_info())
        raise
    if record_id is not None:
        return Attempt(record_id=record_id, atomic=atomic)
    transaction.set_rollback(True)  # nothing was written; on PostgreSQL this ends the lock too
    atomic.__exit__(None, None, None)
    if stored is None or stored.status_code is None:
        raise KeyInUse()
    if stored.fingerprint != request_fingerprint:
        raise KeyReused(
            f"This Idempotency-Key was used for another request ({stored.method} {stored.path}) in the last "
            f"{settings.IDEMPOTENCY_KEY_HOURS} hours: a key goes with one method, path and body. "
            "Send a new key with a new request."
        )
    raise Replay(_replay(stored))


def _stored(user_id: int, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user_id=user_id, key=key).first()


def purge_expired(now: datetime.datetime | None = None) -> int:
    """Delete the keys older than their lifetime; how many."""
    cutoff = (now or timezone.now()) - lifetime()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
