"""Authentication hardening: every password check throttled, counted atomically; see docs/auth.md.

Throttling: the JWT login, the browsable API's login form and the admin's login and password-change
forms share one counter per client address; parallel attempts get exactly the rate on the database
cache (PostgreSQL here; SQLite in tests/test_sqlite_concurrency.py) and on Redis.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import ThrottleCounter
from accounts.throttles import AuthRateThrottle, count_attempt
from tests.factories import PASSWORD, UserFactory
from tests.support import run_together

User = get_user_model()

WRONG = {"username": "alice", "password": "wrong-password"}
THROTTLED = re.compile(r"^Request was throttled\. Expected available in \d+ seconds?\.$")


@pytest.fixture
def rate(monkeypatch):
    """AUTH_THROTTLE_RATE of 3 a minute."""
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    return 3


def attempt(client, path: str, password: str = WRONG["password"], **extra):
    """One login attempt on `path`: JSON for the API, a form for Django's own login pages."""
    if path == "/auth/login/":
        return client.post(path, {"username": "alice", "password": password}, format="json", **extra)
    return client.post(path, {"username": "alice", "password": password}, format="multipart", **extra)


def reset_throttles() -> None:
    caches["default"].clear()
    ThrottleCounter.objects.all().delete()


def assert_throttled(response):
    assert response.status_code == 429, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert THROTTLED.match(response.json()["detail"]), response.json()
    assert 1 <= int(response["Retry-After"]) <= 60


LOGINS = ["/auth/login/", "/api-auth/login/", "/admin/login/"]


@pytest.mark.django_db
class TestEveryLoginIsThrottled:
    @pytest.mark.parametrize("path", LOGINS)
    def test_past_the_rate_even_the_right_password_is_429(self, api_client, user, rate, path):
        user.is_staff = True  # the admin's form would refuse a non-staff user for that reason
        user.save()
        refused = 401 if path == "/auth/login/" else 200  # Django's forms show the page again with an error
        codes = [attempt(api_client, path, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(rate)]
        assert codes == [refused] * rate
        assert_throttled(attempt(api_client, path))
        assert_throttled(attempt(api_client, path, password=PASSWORD))

    @pytest.mark.parametrize("first", LOGINS)
    def test_one_counter_for_every_login(self, api_client, user, rate, first):
        # Attempts spread over the three logins add up; whichever comes next is refused.
        others = [path for path in LOGINS if path != first]
        for path in [first, *others][:rate]:
            assert attempt(api_client, path).status_code != 429
        for path in LOGINS:
            assert_throttled(attempt(api_client, path))
        assert_throttled(api_client.post("/auth/refresh/", {"refresh": "x"}, format="json"))

    @pytest.mark.parametrize("path", LOGINS)
    def test_counted_per_client_address_behind_the_configured_proxies(self, api_client, user, rate, settings, path):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        for _ in range(rate):
            attempt(api_client, path, HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.1")
        assert_throttled(attempt(api_client, path, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1"))
        assert attempt(api_client, path, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code != 429

    def test_admin_password_change_counts_too(self, rate, user):
        user.is_staff = True
        user.save()
        client = APIClient()
        client.force_login(user)
        body = {"old_password": "not-it", "new_password1": "An0ther-pass!", "new_password2": "An0ther-pass!"}
        codes = [client.post("/admin/password_change/", body, format="multipart").status_code for _ in range(rate)]
        assert codes == [200] * rate  # the form again, "Your old password was entered incorrectly"
        assert_throttled(client.post("/admin/password_change/", {**body, "old_password": PASSWORD}, format="multipart"))
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_lost_throttle_cache_is_503_on_the_admin_login_too(self, api_client, user, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        for path in LOGINS:
            response = attempt(api_client, path, password=PASSWORD)
            assert response.status_code == 503, path
            assert response.json() == {"detail": "The rate limiter is unavailable; try again shortly."}


# --- Every route that checks a password, found by sweeping the URL configuration --------------------------------


def example_paths() -> list[str]:
    """One concrete path per URL pattern (ids replaced by 1)."""
    paths: list[str] = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            text = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            text = re.sub(r"<(?:\w+:)?\w+>", "1", text)
            text = re.sub(r"\(\?P<\w+>[^)]*\)", "1", text).replace("\\", "")
            if isinstance(entry, URLResolver):
                walk(entry, text)
            elif isinstance(entry, URLPattern):
                paths.append("/" + text)

    walk(get_resolver(), "")
    return sorted(set(paths))


@pytest.mark.django_db
def test_every_route_that_checks_a_password_shares_the_login_throttle(user, rate):
    """Post credentials (and an old password) to every route, anonymously and as staff; wherever a password was
    checked, the route must answer 429 once the login throttle is spent, without checking it."""
    user.is_staff = True
    user.save()

    def client_as(who: str) -> APIClient:
        client = APIClient()
        if who == "staff":  # logged in afresh each time: the sweep posts to the logout routes too
            client.force_login(user)
        return client

    body = {**WRONG, "old_password": "wrong", "new_password1": "An0ther-pass!", "new_password2": "An0ther-pass!"}
    checks = []
    real_check = User.check_password

    def counting_check(self, raw):
        checks.append(raw)
        return real_check(self, raw)

    def checked_passwords(client, path):
        before = len(checks)
        with mock.patch.object(User, "check_password", counting_check):
            response = client.post(path, body, format="multipart")
            client.post(path, body, format="json")
        return len(checks) - before, response

    checking: set[tuple[str, str]] = set()
    for path in example_paths():
        for who in ("anonymous", "staff"):
            reset_throttles()
            if checked_passwords(client_as(who), path)[0]:
                checking.add((who, path))
    assert {path for _, path in checking} >= {"/auth/login/", "/api-auth/login/", "/admin/login/"}
    assert ("staff", "/admin/password_change/") in checking

    for who, path in sorted(checking):
        reset_throttles()
        for _ in range(rate):
            attempt(APIClient(), "/auth/login/")
        count, response = checked_passwords(client_as(who), path)
        assert (count, response.status_code) == (0, 429), (who, path)


# --- Exactly the rate under parallel attempts ------------------------------------------------------------------


def parallel_logins(n: int) -> list[int]:
    def login(i):
        return attempt(APIClient(), "/auth/login/", password=f"wrong-{i}").status_code

    results = run_together(*[lambda i=i: login(i) for i in range(n)])
    assert all(isinstance(code, int) for code in results), results
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_exactly_the_rate_on_postgresql(monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "10/min"})
    UserFactory(username="alice")
    for round_ in range(3):
        reset_throttles()
        codes = parallel_logins(20)
        assert sorted(codes) == [401] * 10 + [429] * 10, (round_, codes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_counts_are_distinct_on_postgresql():
    results = run_together(*[lambda: count_attempt("throttle_test_parallel", 60, time.time()) for _ in range(40)])
    assert sorted(count for count, _ in results) == list(range(1, 41))
    assert len({resets_at for _, resets_at in results}) == 1


# --- Redis ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def on_redis(settings, redis_url):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    caches["default"].clear()
    yield
    caches["default"].clear()


def test_parallel_counts_are_distinct_on_redis(on_redis):
    def count():
        try:
            return count_attempt("throttle_test_parallel", 60, time.time())
        finally:
            caches["default"].close()

    results = run_together(*[count for _ in range(40)])
    assert sorted(count for count, _ in results) == list(range(1, 41))
    assert len({resets_at for _, resets_at in results}) == 1


@pytest.mark.django_db
def test_login_throttle_on_redis(on_redis, api_client, user, rate):
    assert [attempt(api_client, path).status_code for path in LOGINS] == [401, 200, 200]
    for path in LOGINS:
        assert_throttled(attempt(api_client, path, password=PASSWORD))
    assert not ThrottleCounter.objects.exists()  # the counter is in Redis, not the database


def test_a_window_on_redis_ends_after_its_period(on_redis):
    start = time.time()
    assert count_attempt("throttle_test_window", 1, start) == (1, start + 1)
    assert count_attempt("throttle_test_window", 1, start)[0] == 2
    time.sleep(1.1)
    assert count_attempt("throttle_test_window", 1, start + 1.1) == (1, start + 2.1)


@pytest.mark.django_db
def test_a_window_in_the_database_ends_after_its_period():
    start = 1_000_000.0
    assert count_attempt("throttle_test_window", 60, start) == (1, start + 60)
    assert count_attempt("throttle_test_window", 60, start + 59.9) == (2, start + 60)
    assert count_attempt("throttle_test_window", 60, start + 60) == (1, start + 120)
    assert count_attempt("throttle_test_other", 60, start + 200) == (1, start + 260)
    # A window that opens sweeps the ones that ended.
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["throttle_test_other"]
