"""Shared fixtures: API clients, users and tokens."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory


def pytest_report_header(config):
    from django.db import connection

    return f"database: {connection.vendor} ({connection.settings_dict['NAME']})"


def _sqlite_test_database_in_memory() -> bool:
    """Whether the SQLite test database is (or will be, see `django_db_modify_db_settings`) in memory."""
    import os

    from django.db import connection

    if connection.vendor != "sqlite":
        return False
    name = str(connection.settings_dict.get("TEST", {}).get("NAME") or os.environ.get("SQLITE_TEST_DATABASE") or "")
    return name == ":memory:" or "mode=memory" in name


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `postgres` (pg_locks, JSON functions) on any other database, and tests marked
    `concurrent` (real threads, each with its own connection) on a SQLite test database in memory."""
    from django.db import connection

    skips = {}
    if connection.vendor != "postgresql":
        skips["postgres"] = pytest.mark.skip(
            reason=f"postgres: needs PostgreSQL, the test database is {connection.vendor}"
        )
    if _sqlite_test_database_in_memory():
        skips["concurrent"] = pytest.mark.skip(
            reason="concurrent: needs a test database in a file (in memory, SQLite connections lock whole tables)"
        )
    for item in items:
        for marker, skip in skips.items():
            if item.get_closest_marker(marker):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, the test database is a file (pytest-django's default is in memory).

    Connections to an in-memory database share one cache, whose locks cover whole tables and do not
    wait: concurrent requests fail at once with "database table is locked". In a file, each connection
    is its own, WAL and BEGIN IMMEDIATE apply as in production (oneonone/settings.py), and the race
    tests (marker `concurrent`) run on SQLite as on PostgreSQL. `SQLITE_TEST_DATABASE=:memory:` goes back
    to memory (those tests are then skipped).
    """
    import os

    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3" or database.get("TEST", {}).get("NAME"):
        return
    name = os.environ.get("SQLITE_TEST_DATABASE") or str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")
    database.setdefault("TEST", {})["NAME"] = name


# The suite's dates are written out (mostly 2030 and 2031); the window of dates a calendar may hold
# (calendars.models.date_window: a year back, ten years ahead) counts from this day in tests, so they stay
# inside it whatever the real date. Tests of the window move it themselves.
PINNED_TODAY = datetime.date(2029, 7, 1)


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch):
    monkeypatch.setattr("calendars.models.dates_today", lambda: PINNED_TODAY)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Real hashing costs ~0.3 s a password; tests only need it to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache(request):
    # Throttle counters live in the database cache; clear them around every test that uses the database.
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _webhooks_stay_on_this_machine(monkeypatch):
    # No test may send a webhook anywhere but to a receiver of its own on the loopback interface.
    import ipaddress

    from webhooks import transport

    connect = transport.open_connection

    def loopback_only(address: str, port: int, timeout: float):
        assert ipaddress.ip_address(address).is_loopback, f"a test tried to send a webhook to {address}"
        return connect(address, port, timeout)

    monkeypatch.setattr(transport, "open_connection", loopback_only)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob")


@pytest.fixture
def third_user(db):
    return UserFactory(username="carol")


def client_for(user) -> APIClient:
    """A client authenticated with a real JWT access token for `user`."""
    client = APIClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def third_client(third_user) -> APIClient:
    return client_for(third_user)


def run_tasks() -> int:
    """Run every task that is due, as `manage.py worker` would (in this process); returns how many ran.

    A task that raised fails the test with its traceback: the worker would only record it.
    """
    from unittest import mock

    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    before = DBTaskResult.objects.exclude(status="READY").count()
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    # The worker drops connections between tasks, as a request does; the test's transaction holds this one.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        worker.run()
    broken = DBTaskResult.objects.filter(status="FAILED").first()
    assert broken is None, f"a task failed: {broken.task_path} {broken.traceback}"
    return DBTaskResult.objects.exclude(status="READY").count() - before


@pytest.fixture
def deliver(db):
    """Run the queued tasks (email delivery) and return the messages sent so far (`mail.outbox`)."""
    from django.core import mail

    def run():
        run_tasks()
        return mail.outbox

    return run
