"""Confirming an email address: the link mailed at registration, single use, expiring; resend is throttled."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import EmailVerification
from accounts.throttles import EmailResendThrottle
from delivery.models import Email
from tests.conftest import client_for, run_tasks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BODY = {"username": "zoe", "email": "zoe@example.com", "password": "c0rrect-h0rse", "password2": "c0rrect-h0rse"}


def token_in(message) -> str:
    match = re.search(r"/auth/email/verify/\?token=([A-Za-z0-9_-]+)", message.body)
    assert match, message.body
    return match.group(1)


def register(api_client, **changes):
    response = api_client.post("/auth/register/", {**BODY, **changes}, format="json")
    assert response.status_code == 201, response.json()
    run_tasks()
    return response


class TestRegistration:
    def test_mails_a_link_that_confirms_the_address(self, api_client):
        register(api_client)
        (message,) = mail.outbox
        assert message.to == ["zoe@example.com"]
        assert message.subject == "Confirm your email address for OneOnOne"
        token = token_in(message)
        assert f'POST /auth/email/verify/ {{"token": "{token}"}}' in message.body
        zoe = client_for(EmailVerification.objects.get().user)
        assert zoe.get("/auth/me/").json()["email_verified"] is False
        response = api_client.post("/auth/email/verify/", {"token": token}, format="json")
        assert response.status_code == 200
        assert response.json() == {
            "id": EmailVerification.objects.get().user_id,
            "username": "zoe",
            "email": "zoe@example.com",
            "email_verified": True,
            "timezone": "",
        }
        assert zoe.get("/auth/me/").json()["email_verified"] is True

    def test_without_an_address_nothing_is_mailed(self, api_client):
        register(api_client, email="")
        assert mail.outbox == []
        assert EmailVerification.objects.count() == 0

    def test_the_token_is_stored_as_a_digest(self, api_client):
        register(api_client)
        token = token_in(mail.outbox[0])
        stored = EmailVerification.objects.get()
        assert stored.digest != token
        assert token not in stored.digest

    def test_unverified_users_get_no_notices(self, api_client):
        register(api_client)
        zoe = EmailVerification.objects.get().user
        assert not zoe.email_verified
        assert list(Email.objects.values_list("kind", flat=True)) == ["verify"]


class TestVerify:
    def test_a_token_works_once(self, api_client):
        register(api_client)
        token = token_in(mail.outbox[0])
        assert api_client.post("/auth/email/verify/", {"token": token}, format="json").status_code == 200
        again = api_client.post("/auth/email/verify/", {"token": token}, format="json")
        assert again.status_code == 400
        assert again.json() == {
            "token": ["This token is unknown, used or expired; ask for a new one (POST /auth/email/resend/)."]
        }

    def test_an_expired_token_is_refused(self, api_client):
        register(api_client)
        past = timezone.now() - datetime.timedelta(hours=49)
        EmailVerification.objects.update(created_at=past, expires_at=past + datetime.timedelta(hours=48))
        response = api_client.post("/auth/email/verify/", {"token": token_in(mail.outbox[0])}, format="json")
        assert response.status_code == 400
        assert not EmailVerification.objects.get().user.email_verified

    def test_a_token_is_refused_at_the_moment_it_expires(self, api_client):
        register(api_client)
        with time_machine.travel(timezone.now(), tick=False):
            EmailVerification.objects.update(expires_at=timezone.now())
            response = api_client.post("/auth/email/verify/", {"token": token_in(mail.outbox[0])}, format="json")
        assert response.status_code == 400
        assert not EmailVerification.objects.get().user.email_verified

    @pytest.mark.parametrize("token", ["", "x" * 201, "nope"])
    def test_bad_tokens(self, api_client, token):
        assert api_client.post("/auth/email/verify/", {"token": token}, format="json").status_code == 400

    def test_a_token_for_an_address_no_longer_mine(self, api_client):
        register(api_client)
        user = EmailVerification.objects.get().user
        user.email = "other@example.com"
        user.save()
        response = api_client.post("/auth/email/verify/", {"token": token_in(mail.outbox[0])}, format="json")
        assert response.status_code == 400
        assert response.json() == {"token": ["This token confirms an address you no longer have."]}
        user.refresh_from_db()
        assert (user.verified_email, user.email_verified) == ("", False)

    def test_no_login_needed_and_a_bearer_is_ignored(self, api_client):
        register(api_client)
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        assert (
            api_client.post("/auth/email/verify/", {"token": token_in(mail.outbox[0])}, format="json").status_code
            == 200
        )


class TestResend:
    def test_sends_a_new_link(self, api_client):
        register(api_client)
        zoe = client_for(EmailVerification.objects.get().user)
        response = zoe.post("/auth/email/resend/")
        assert response.status_code == 202
        latest = EmailVerification.objects.first()
        assert response.json() == {
            "email": "zoe@example.com",
            "expires_at": latest.expires_at.isoformat().replace("+00:00", "Z"),
        }
        run_tasks()
        assert len(mail.outbox) == 2
        assert token_in(mail.outbox[1]) != token_in(mail.outbox[0])
        # Both links work until used or expired; the new one confirms.
        assert (
            api_client.post("/auth/email/verify/", {"token": token_in(mail.outbox[1])}, format="json").status_code
            == 200
        )

    def test_already_confirmed_or_no_address_is_409(self, db):
        assert client_for(UserFactory()).post("/auth/email/resend/").json() == {
            "detail": f"{UserFactory._meta.model.objects.last().email} is already confirmed."
        }
        nomail = UserFactory(username="nomail", email="")
        response = client_for(nomail).post("/auth/email/resend/")
        assert (response.status_code, response.json()) == (
            409,
            {"detail": "You have no email address to confirm; set one first."},
        )

    def test_throttled_per_user(self, db, monkeypatch):
        monkeypatch.setattr(EmailResendThrottle, "THROTTLE_RATES", {"email_resend": "2/hour"})
        user = UserFactory(username="zed", verified_email="")
        client = client_for(user)
        assert [client.post("/auth/email/resend/").status_code for _ in range(3)] == [202, 202, 429]
        # Another user is counted apart.
        other = client_for(UserFactory(username="yan", verified_email=""))
        assert other.post("/auth/email/resend/").status_code == 202

    def test_anonymous_is_401(self, api_client):
        assert api_client.post("/auth/email/resend/").status_code == 401


class TestAddresses:
    @pytest.mark.parametrize(
        "email",
        [
            '"x\\u000bBcc:victim"@example.com',
            '"x\u000bBcc: victim@example.com"@example.com',
            "a\u007fb@example.com",
            '"quoted"@example.com',
        ],
    )
    def test_unsafe_addresses_are_refused(self, api_client, email):
        response = api_client.post("/auth/register/", {**BODY, "email": email}, format="json")
        assert response.status_code == 400
        assert "email" in response.json()
