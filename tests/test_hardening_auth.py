"""Authentication hardening: throttled password checks, refresh token families; see docs/auth.md.

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
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import RefreshTokenFamily, ThrottleCounter
from accounts.throttles import AuthRateThrottle, count_attempt
from accounts.tokens import RefreshToken
from tests.factories import PASSWORD, UserFactory
from tests.routes import example_paths
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


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_exactly_the_rate(monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "10/min"})
    UserFactory(username="alice")
    for round_ in range(3):
        reset_throttles()
        codes = parallel_logins(20)
        assert sorted(codes) == [401] * 10 + [429] * 10, (round_, codes)


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_counts_are_distinct():
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
def test_login_throttle_on_redis(on_redis, redis_url, api_client, user, rate):
    assert [attempt(api_client, path).status_code for path in LOGINS] == [401, 200, 200]
    for path in LOGINS:
        assert_throttled(attempt(api_client, path, password=PASSWORD))
    assert not ThrottleCounter.objects.exists()  # the counter is in Redis, not the database
    # The window's key, named as DRF named its history: scripts/ci/scale_out.sh looks for it.
    import redis

    assert redis.Redis.from_url(redis_url).exists(":1:throttle_auth_127.0.0.1") == 1


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


# --- Refresh token families: one successor per token, reuse revokes the login's tokens ---------------------------

REVOKED = {"detail": "Token is blacklisted", "code": "token_not_valid"}


def login(client=None) -> dict:
    response = (client or APIClient()).post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str, client=None):
    return (client or APIClient()).post("/auth/refresh/", {"refresh": token}, format="json")


def logout(token: str):
    return APIClient().post("/auth/logout/", {"refresh": token}, format="json")


@pytest.fixture
def no_auth_throttle(monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "10000/min"})


@pytest.mark.django_db
@pytest.mark.usefixtures("no_auth_throttle")
class TestRefreshTokenFamilies:
    def chain(self, length: int) -> list[str]:
        tokens = [login()["refresh"]]
        for _ in range(length):
            response = refresh(tokens[-1])
            assert response.status_code == 200, response.content
            tokens.append(response.json()["refresh"])
        return tokens

    def test_a_refresh_chain_keeps_working(self, user):
        tokens = self.chain(6)
        assert len(set(tokens)) == 7
        assert {RefreshToken(t).family_id for t in tokens} == {RefreshToken(tokens[0]).jti}
        assert RefreshTokenFamily.objects.get().current_jti == RefreshToken(tokens[-1]).jti
        # Every token but the newest is blacklisted.
        assert BlacklistedToken.objects.count() == 6
        assert refresh(tokens[-1]).status_code == 200

    @pytest.mark.parametrize("reused", [0, 1, 3])
    def test_reusing_a_rotated_token_revokes_every_token_of_its_login(self, user, reused):
        tokens = self.chain(4)
        other_login = login()["refresh"]
        response = refresh(tokens[reused])
        assert (response.status_code, response.json()) == (401, REVOKED)
        for token in tokens:
            assert (refresh(token).status_code, refresh(token).json()) == (401, REVOKED)
        family = RefreshTokenFamily.objects.get(id=RefreshToken(tokens[0]).jti)
        assert family.revoked_because == "reuse"
        assert BlacklistedToken.objects.filter(token__jti=RefreshToken(tokens[-1]).jti).exists()
        # Another login (another device) is another family: untouched.
        assert refresh(other_login).status_code == 200

    def test_the_thief_refreshing_first_loses_too(self, user):
        stolen = login()["refresh"]
        thief = refresh(stolen).json()["refresh"]
        assert refresh(stolen).status_code == 401  # the owner's client, later, with its copy
        assert refresh(thief).status_code == 401

    @pytest.mark.parametrize("which", [0, 2, 3])
    def test_logout_with_any_token_of_a_login_ends_them_all(self, user, which):
        tokens = self.chain(3)
        assert logout(tokens[which]).status_code == 204
        for token in tokens:
            assert (refresh(token).status_code, refresh(token).json()) == (401, REVOKED)
        assert RefreshTokenFamily.objects.get().revoked_because == "logout"
        assert logout(tokens[-1]).status_code == 204  # again: still revoked, quietly

    def test_logout_before_any_refresh(self, user):
        token = login()["refresh"]
        assert logout(token).status_code == 204
        assert (refresh(token).status_code, refresh(token).json()) == (401, REVOKED)

    def test_access_tokens_do_not_carry_the_family(self, user):
        tokens = self.chain(1)
        assert "fam" in RefreshToken(tokens[1]).payload
        assert "fam" not in AccessToken(refresh(tokens[1]).json()["access"]).payload

    def test_a_family_of_a_deleted_user_goes_with_it(self, user):
        self.chain(1)
        user.delete()
        assert not RefreshTokenFamily.objects.exists()


def parallel_refreshes(token: str, n: int) -> list:
    results = run_together(*[lambda: refresh(token) for _ in range(n)])
    assert all(not isinstance(r, Exception) for r in results), results
    return results


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_auth_throttle")
@pytest.mark.parametrize("rotated_before", [0, 1])
def test_parallel_refreshes_of_one_token_give_one_successor(rotated_before):
    """Ten refreshes at once with one token (the login's, or a successor): exactly one 200, and since the
    nine others are reuse, the family is revoked and the winner's token is refused too."""
    UserFactory(username="alice")
    for _ in range(3):
        token = login()["refresh"]
        for _ in range(rotated_before):
            token = refresh(token).json()["refresh"]
        responses = parallel_refreshes(token, 10)
        assert sorted(r.status_code for r in responses) == [200] + [401] * 9
        assert all(r.json() == REVOKED for r in responses if r.status_code == 401)
        (winner,) = [r.json()["refresh"] for r in responses if r.status_code == 200]
        assert refresh(winner).status_code == 401


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_auth_throttle")
@pytest.mark.parametrize("rotated_before", [0, 1])
def test_logout_racing_a_refresh_leaves_no_live_token(rotated_before):
    UserFactory(username="alice")
    for round_ in range(5):
        token = login()["refresh"]
        for _ in range(rotated_before):
            token = refresh(token).json()["refresh"]
        out, refreshed = run_together(lambda token=token: logout(token), lambda token=token: refresh(token))
        assert out.status_code == 204, (round_, out.content)
        if refreshed.status_code == 200:
            assert refresh(refreshed.json()["refresh"]).status_code == 401, round_
        else:
            assert refreshed.status_code == 401, (round_, refreshed.content)


@pytest.mark.concurrent
@pytest.mark.django_db(transaction=True)
def test_parallel_resends_get_exactly_the_rate(monkeypatch):
    """The confirmation-email throttle (per user) counts atomically too: 3 of 9 at once, not more."""
    from accounts.throttles import EmailResendThrottle
    from tests.conftest import client_for

    monkeypatch.setattr(EmailResendThrottle, "THROTTLE_RATES", {"email_resend": "3/hour"})
    user = UserFactory(username="zed", email="zed@example.com", verified_email="")
    responses = run_together(*[lambda: client_for(user).post("/auth/email/resend/") for _ in range(9)])
    assert sorted(r.status_code for r in responses) == [202] * 3 + [429] * 6
