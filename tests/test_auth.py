"""Register, login, refresh with rotation, logout, throttling and token checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import services as account_services
from accounts.models import EmailVerification
from accounts.throttles import AuthRateThrottle, RegisterRateThrottle
from tests.factories import PASSWORD, UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db

GOOD = {
    "username": "dora",
    "email": "dora@example.com",
    "password": "s3cure-Passw0rd!",
    "password2": "s3cure-Passw0rd!",
}


def register(client, **overrides):
    return client.post("/auth/register/", {**GOOD, **overrides}, format="json")


class TestRegister:
    def test_creates_user_and_hides_passwords(self, api_client):
        response = register(api_client)
        assert response.status_code == 201
        user = User.objects.get(username="dora")
        assert response.json() == {"id": user.id, "username": "dora", "email": "dora@example.com"}
        assert user.check_password(GOOD["password"])

    def test_email_is_optional(self, api_client):
        body = {k: v for k, v in GOOD.items() if k != "email"}
        response = api_client.post("/auth/register/", body, format="json")
        assert response.status_code == 201
        assert response.json()["email"] == ""

    @pytest.mark.parametrize("fmt", ["multipart", None])
    def test_accepts_form_bodies(self, api_client, fmt):
        response = (
            api_client.post("/auth/register/", GOOD, format=fmt)
            if fmt
            else api_client.post(
                "/auth/register/",
                "&".join(f"{k}={v}" for k, v in GOOD.items()),
                content_type="application/x-www-form-urlencoded",
            )
        )
        assert response.status_code == 201
        user = User.objects.get(username="dora")
        assert response.json() == {"id": user.id, "username": "dora", "email": "dora@example.com"}
        assert user.check_password(GOOD["password"])

    def test_mismatched_passwords(self, api_client):
        response = register(api_client, password2="something-else-9")
        assert response.status_code == 400
        assert response.json() == {"password2": ["The two passwords do not match."]}
        assert not User.objects.filter(username="dora").exists()

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("short1!", "This password is too short. It must contain at least 8 characters."),
            ("12345678901", "This password is entirely numeric."),
            ("password", "This password is too common."),
        ],
    )
    def test_weak_password(self, api_client, password, message):
        response = register(api_client, password=password, password2=password)
        assert response.status_code == 400
        assert message in response.json()["password"]

    def test_password_like_username(self, api_client):
        response = register(api_client, username="doraexplorer", password="doraexplorer", password2="doraexplorer")
        assert response.status_code == 400
        assert "The password is too similar to the username." in response.json()["password"]

    def test_taken_username_any_case(self, api_client):
        UserFactory(username="Dora")
        response = register(api_client)
        assert response.status_code == 400
        assert response.json() == {"username": ["A user with that username already exists."]}

    @pytest.mark.parametrize("username", ["has space", "semi;colon", "", "x" * 151])
    def test_malformed_username(self, api_client, username):
        response = register(api_client, username=username)
        assert response.status_code == 400
        assert "username" in response.json()

    def test_malformed_email(self, api_client):
        response = register(api_client, email="not-an-email")
        assert response.status_code == 400
        assert response.json() == {"email": ["Enter a valid email address."]}

    def test_missing_fields(self, api_client):
        response = api_client.post("/auth/register/", {}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"username", "password", "password2"}

    def test_read_only_and_unknown_fields_are_ignored(self, api_client):
        response = register(api_client, id=999, is_staff=True, is_superuser=True)
        assert response.status_code == 201
        user = User.objects.get(username="dora")
        assert response.json()["id"] == user.id
        assert not user.is_staff
        assert not user.is_superuser

    def test_throttled(self, api_client, monkeypatch):
        monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "2/hour"})
        codes = [register(api_client, username=f"u{i}").status_code for i in range(3)]
        assert codes == [201, 201, 429]


class TestRegisterService:
    def test_a_name_taken_meanwhile_is_the_400_on_the_username(self):
        # The view's check runs first; two registrations at once meet the unique constraint instead.
        account_services.user_register(username="alice", password=PASSWORD)
        with pytest.raises(ValidationError) as refused:
            account_services.user_register(username="alice", password=PASSWORD)
        assert refused.value.detail == {"username": ["A user with that username already exists."]}
        assert get_user_model().objects.filter(username="alice").count() == 1

    def test_without_an_address_nothing_is_sent(self):
        user = account_services.user_register(username="bob", password=PASSWORD)
        assert user.email == ""
        assert not EmailVerification.objects.exists()


class TestRevokeService:
    def test_only_this_users_live_tokens_are_blacklisted_and_counted(self):
        alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
        first = RefreshToken.for_user(alice)
        RefreshToken.for_user(alice)
        RefreshToken.for_user(bob)
        first.blacklist()
        assert account_services.tokens_revoke(user=alice) == 1
        assert BlacklistedToken.objects.filter(token__user=alice).count() == 2
        assert not BlacklistedToken.objects.filter(token__user=bob).exists()
        assert account_services.tokens_revoke(user=alice) == 0

    def test_a_token_blacklisted_meanwhile_is_no_error(self, monkeypatch):
        # alice logs out on another device (simplejwt blacklists that refresh token) between the read of her
        # live tokens and the insert: the deletion still goes through, each token blacklisted once.
        alice = UserFactory(username="alice")
        RefreshToken.for_user(alice)
        other_device = RefreshToken.for_user(alice)
        bulk_create = BlacklistedToken.objects.bulk_create

        def logout_meanwhile(objs, **kwargs):
            other_device.blacklist()
            return bulk_create(objs, **kwargs)

        monkeypatch.setattr(BlacklistedToken.objects, "bulk_create", logout_meanwhile)
        account_services.tokens_revoke(user=alice)
        assert BlacklistedToken.objects.filter(token__user=alice).count() == 2
        assert OutstandingToken.objects.filter(user=alice, blacklistedtoken__isnull=True).count() == 0


class TestLogin:
    def test_returns_token_pair(self, api_client, user):
        response = api_client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access", "refresh"}
        assert AccessToken(body["access"])["user_id"] == str(user.id)

    def test_wrong_password(self, api_client, user):
        response = api_client.post("/auth/login/", {"username": "alice", "password": "nope"}, format="json")
        assert response.status_code == 401
        assert response.json() == {"detail": "No active account found with the given credentials"}

    def test_unknown_user_same_answer(self, api_client, db):
        response = api_client.post("/auth/login/", {"username": "ghost", "password": "nope"}, format="json")
        assert response.status_code == 401
        assert response.json() == {"detail": "No active account found with the given credentials"}

    def test_inactive_user(self, api_client, user):
        user.is_active = False
        user.save()
        response = api_client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
        assert response.status_code == 401

    def test_missing_fields(self, api_client, db):
        response = api_client.post("/auth/login/", {}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"username", "password"}

    def test_throttled_even_with_spoofed_forwarded_for(self, api_client, user, monkeypatch):
        monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
        codes = [
            api_client.post(
                "/auth/login/",
                {"username": "alice", "password": "wrong"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
            ).status_code
            for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        response = api_client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
        assert response.status_code == 429
        assert "Retry-After" in response.headers


class TestRefreshAndLogout:
    def login(self, client):
        return client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json").json()

    def test_rotation_blacklists_the_used_token(self, api_client, user):
        tokens = self.login(api_client)
        response = api_client.post("/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 200
        fresh = response.json()
        assert set(fresh) == {"access", "refresh"}
        assert fresh["refresh"] != tokens["refresh"]
        again = api_client.post("/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
        assert again.status_code == 401
        assert again.json()["code"] == "token_not_valid"
        # Reuse of a rotated token revokes its whole family, the new token too (docs/auth.md).
        assert api_client.post("/auth/refresh/", {"refresh": fresh["refresh"]}, format="json").status_code == 401

    def test_logout_revokes_refresh_token(self, api_client, user):
        tokens = self.login(api_client)
        assert api_client.post("/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
        response = api_client.post("/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 401
        # Logging out again succeeds quietly (RFC 7009): the token stays revoked.
        assert api_client.post("/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204

    def test_logout_with_garbage(self, api_client, db):
        assert api_client.post("/auth/logout/", {"refresh": "garbage"}, format="json").status_code == 401
        assert api_client.post("/auth/logout/", {}, format="json").status_code == 400

    def test_access_token_is_not_a_refresh_token(self, api_client, user):
        tokens = self.login(api_client)
        assert api_client.post("/auth/refresh/", {"refresh": tokens["access"]}, format="json").status_code == 401

    def test_refresh_with_garbage(self, api_client, db):
        response = api_client.post("/auth/refresh/", {"refresh": "not.a.token"}, format="json")
        assert response.status_code == 401


class TestAccessTokens:
    URL = "/contacts/friends/"

    def test_no_token(self, api_client, db):
        response = api_client.get("/auth/me/")
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    def test_valid_token(self, auth_client, user):
        response = auth_client.get("/auth/me/")
        assert response.status_code == 200
        assert response.json() == {
            "id": user.id,
            "username": "alice",
            "email": "alice@example.com",
            "email_verified": True,
            "timezone": "",
        }

    def test_schema_is_public(self, api_client, db):
        assert api_client.get("/schema/").status_code == 200

    def test_refresh_token_is_not_an_access_token(self, api_client, user):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")
        response = api_client.get("/auth/me/")
        assert response.status_code == 401

    def test_tampered_token(self, api_client, user):
        token = str(AccessToken.for_user(user))
        head, payload, signature = token.split(".")
        tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")
        assert api_client.get("/auth/me/").status_code == 401

    def test_expired_token(self, api_client, user):
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=-timedelta(seconds=1))
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = api_client.get("/auth/me/")
        assert response.status_code == 401
        assert response.data["code"] == "token_not_valid"

    def test_token_of_deleted_user(self, api_client, user):
        token = AccessToken.for_user(user)
        user.delete()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api_client.get("/auth/me/").status_code == 401


def test_health_checks_database(api_client, db):
    response = api_client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_unknown_url_is_json_404(api_client, db):
    response = api_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_docs_are_served_without_internet(api_client, db):
    html = api_client.get("/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert api_client.get("/redoc/").status_code == 200


def test_oversized_body_is_413(api_client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post("/auth/register/", {**GOOD, "email": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")


class TestForgedTokens:
    """Tokens an attacker could build: each answers 401, never 500."""

    @staticmethod
    def b64(data: dict) -> str:
        import base64
        import json

        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    def get_with(self, client, token: str):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.get("/auth/me/")

    def test_alg_none(self, api_client, user):
        claims = dict(AccessToken.for_user(user).payload)
        token = f"{self.b64({'alg': 'none', 'typ': 'JWT'})}.{self.b64(claims)}."
        assert self.get_with(api_client, token).status_code == 401

    def test_signed_with_another_key(self, api_client, user):
        import jwt

        claims = dict(AccessToken.for_user(user).payload)
        token = jwt.encode(claims, "not-the-server-key-but-long-enough-for-hs256", algorithm="HS256")
        assert self.get_with(api_client, token).status_code == 401

    def test_payload_swapped_to_another_user(self, api_client, user, other_user):
        token = str(AccessToken.for_user(user))
        head, _, signature = token.split(".")
        claims = dict(AccessToken.for_user(user).payload)
        claims["user_id"] = str(other_user.id)
        assert self.get_with(api_client, f"{head}.{self.b64(claims)}.{signature}").status_code == 401

    @pytest.mark.parametrize("header", ["Bearer", "Bearer a.b", "Token abc", "Bearer \x00", "Basic Zm9vOmJhcg=="])
    def test_malformed_headers(self, api_client, db, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)
        assert api_client.get("/auth/me/").status_code == 401

    def test_token_of_deactivated_user(self, api_client, user):
        token = AccessToken.for_user(user)
        user.is_active = False
        user.save()
        assert self.get_with(api_client, str(token)).status_code == 401


def test_lost_throttle_cache_is_503_not_500(api_client, user, settings):
    # A Redis cache nobody listens on: the login must fail closed and clearly.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = api_client.post("/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 503
    assert response.json() == {"detail": "The rate limiter is unavailable; try again shortly."}


class TestApiRoot:
    def test_links_the_docs_and_the_collections_without_login(self, api_client):
        response = api_client.get("/")
        assert response.status_code == 200
        body = response.json()
        assert (body["name"], body["version"]) == ("OneOnOne API", "1.0.0")
        assert body["links"] == {
            "docs": "http://testserver/docs/",
            "redoc": "http://testserver/redoc/",
            "schema": "http://testserver/schema/",
            "health": "http://testserver/healthz/",
            "register": "http://testserver/auth/register/",
            "login": "http://testserver/auth/login/",
            "me": "http://testserver/auth/me/",
            "calendars": "http://testserver/calendars/",
            "invitations": "http://testserver/invitations/",
            "contacts": "http://testserver/contacts/",
            "friends": "http://testserver/contacts/friends/",
            "user_search": "http://testserver/contacts/search/",
        }

    def test_every_link_answers(self, api_client, auth_client):
        links = api_client.get("/").json()["links"]
        post_only = {"register", "login"}
        for name, url in links.items():
            assert auth_client.get(url).status_code == (405 if name in post_only else 200), url
