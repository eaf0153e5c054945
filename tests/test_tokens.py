"""Token attacks beyond tests/test_auth.py, and login throttling shared by two server processes.

test_auth.py covers: alg none, another key, tampered payload, expired access token, refresh as
access, access as refresh, rotation, logout, deleted or deactivated user's access token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.factories import PASSWORD, UserFactory
from tests.support import free_port, stop_process, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent


def me(client, token: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/auth/me/")


@pytest.mark.django_db
class TestAccessTokens:
    def test_other_hmac_algorithm_with_the_right_key(self, api_client, user):
        # The server accepts HS256 only; the same key under HS512 is still a forgery.
        claims = dict(AccessToken.for_user(user).payload)
        token = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS512")
        assert me(api_client, token).status_code == 401

    def test_no_expiry_claim(self, api_client, user):
        claims = dict(AccessToken.for_user(user).payload)
        del claims["exp"]
        token = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
        assert me(api_client, token).status_code == 401

    def test_wrong_token_type_claim(self, api_client, user):
        claims = {**dict(AccessToken.for_user(user).payload), "token_type": "refresh"}
        token = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
        assert me(api_client, token).status_code == 401

    # Only the server signs tokens, so a claim is never an attacker's text; an odd one is still a 401.
    @pytest.mark.parametrize("user_id", ["987654", "-1", "99999999999999999999999", None])
    def test_user_id_of_nobody(self, api_client, db, user_id):
        claims = {**dict(AccessToken.for_user(UserFactory()).payload), "user_id": user_id}
        token = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
        assert me(api_client, token).status_code == 401

    def test_access_token_outlives_logout_until_it_expires(self, api_client, user):
        """Documented in docs/auth.md: logout revokes the refresh token; access tokens are short-lived."""
        tokens = api_client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json").json()
        assert api_client.post("/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
        assert me(api_client, tokens["access"]).status_code == 200
        assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=15)


@pytest.mark.django_db
class TestRefreshTokens:
    def refresh(self, client, token) -> int:
        return client.post("/auth/refresh/", {"refresh": str(token)}, format="json")

    def test_expired_refresh_token(self, api_client, user):
        token = RefreshToken.for_user(user)
        token.set_exp(lifetime=-timedelta(seconds=1))
        response = self.refresh(api_client, token)
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"

    def test_refresh_token_of_deactivated_user(self, api_client, user):
        token = RefreshToken.for_user(user)
        user.is_active = False
        user.save()
        response = self.refresh(api_client, token)
        assert response.status_code == 401

    def test_refresh_token_of_deleted_user(self, api_client, user):
        token = RefreshToken.for_user(user)
        user.delete()
        response = self.refresh(api_client, token)
        assert response.status_code == 401

    def test_rotated_token_reused_after_the_new_one_was_used(self, api_client, user):
        first = RefreshToken.for_user(user)
        second = self.refresh(api_client, first).json()["refresh"]
        assert self.refresh(api_client, second).status_code == 200
        assert self.refresh(api_client, first).status_code == 401
        assert self.refresh(api_client, second).status_code == 401

    def test_logout_with_an_access_token(self, api_client, user):
        access = AccessToken.for_user(user)
        response = api_client.post("/auth/logout/", {"refresh": str(access)}, format="json")
        assert response.status_code == 401


# --- Login throttling across processes -----------------------------------------------------------------------


def post_login(port: int, password: str) -> int:
    body = json.dumps({"username": "throttled", "password": password}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/auth/login/", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a server this test started
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def database_url() -> str:
    """The test database as a DATABASE_URL, for a server started by the test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"  # a file (tests/conftest.py), absolute: sqlite:////tmp/...
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.concurrent  # both servers reach the test database
@pytest.mark.django_db(transaction=True)
def test_login_throttle_is_shared_by_two_server_processes(tmp_path):
    """Two gunicorn servers on one database cache count one client's attempts together."""
    UserFactory(username="throttled")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "AUTH_THROTTLE_RATE": "4/min",
        "DJANGO_SETTINGS_MODULE": "oneonone.settings",
        "DATABASE_CONN_MAX_AGE": "0",
        "GUNICORN_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    servers = []
    try:
        for name in ("a", "b"):
            port, log = free_port(), tmp_path / f"{name}.log"
            process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [str(gunicorn), "oneonone.wsgi", "-c", "oneonone/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            servers.append((port, process, log))
        for port, process, log in servers:
            wait_until_serving(f"http://127.0.0.1:{port}/healthz/", process=process, log=log)
        (a, _, _), (b, _, _) = servers
        # Wrong passwords alternate between the servers: the fifth attempt, whichever server gets it, is refused.
        codes = [post_login(port, "wrong") for port in (a, b, a, b)]
        assert codes == [401, 401, 401, 401]
        assert post_login(a, PASSWORD) == 429
        assert post_login(b, PASSWORD) == 429
    finally:
        stop_process(*(process for _, process, _ in servers), timeout=15)
