"""Old PBKDF2 hashes wrapped in Argon2id by migration accounts/0005, before their users log in (accounts/hashers.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import (
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    identify_hasher,
    make_password,
)
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts.hashers import PBKDF2WrappedArgon2idPasswordHasher, wrap_pbkdf2
from accounts.throttles import AuthRateThrottle

User = get_user_model()
BEFORE = ("accounts", "0004_refreshtokenfamily")
PASSWORD = "An0ld-but-g00d-one"


@pytest.fixture
def real_hashers(settings, monkeypatch):
    """The project's hashers (tests/conftest.py makes every test use MD5), and no login throttle."""
    from oneonone import settings as project

    settings.PASSWORD_HASHERS = project.PASSWORD_HASHERS
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "1000/min"})


def migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def latest() -> tuple[str, str]:
    """The newest accounts migration: 0005 wraps the hashes, and those after it must run too."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes("accounts")[0]


def user_model_at(target):
    """The user model as it was at `target` (the live one has columns added since)."""
    return MigrationExecutor(connection).loader.project_state([target]).apps.get_model("accounts", "User")


def login(username: str, password: str = PASSWORD) -> int:
    body = {"username": username, "password": password}
    return APIClient().post("/auth/login/", body, format="json").status_code


@pytest.mark.django_db(transaction=True)
def test_migration_wraps_pbkdf2_hashes_and_their_users_log_in(real_hashers):
    migrate(BEFORE)
    try:
        then = user_model_at(BEFORE)
        # Few iterations keep the test fast; the hashes are otherwise what Django wrote.
        old = {
            "sha256": PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000),
            "sha1": PBKDF2SHA1PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000),
        }
        for name, encoded in old.items():
            then.objects.create(username=name, password=encoded)
        modern = make_password(PASSWORD)
        then.objects.create(username="modern", password=modern)
        then.objects.create(username="unusable", password="!no-password")
    finally:
        migrate(latest())

    hashes = dict(User.objects.values_list("username", "password"))
    assert hashes["sha256"].startswith("argon2id_pbkdf2_sha256$1000$saltsaltsalt$argon2id$v=19$m=19456,t=2,p=1$")
    assert hashes["sha1"].startswith("argon2id_pbkdf2_sha1$1000$saltsaltsalt$argon2id$")
    assert old["sha256"].split("$")[3] not in hashes["sha256"]  # the PBKDF2 hash itself is gone
    assert (hashes["modern"], hashes["unusable"]) == (modern, "!no-password")

    for name in ("sha256", "sha1"):
        assert login(name, "wrong-password") == 401
        assert User.objects.get(username=name).password == hashes[name]
        assert login(name) == 200
        # The login rehashed it with plain Argon2id, the first hasher.
        assert identify_hasher(User.objects.get(username=name).password).algorithm == "argon2"
        assert login(name) == 200


def test_wrapping_refuses_what_is_not_its_algorithm():
    with pytest.raises(ValueError, match="not a pbkdf2_sha256 hash"):
        PBKDF2WrappedArgon2idPasswordHasher().wrap("argon2$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA")
    assert wrap_pbkdf2("argon2$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA") is None
    assert wrap_pbkdf2("!unusable") is None


def test_summary_for_the_admin_masks_the_salts():
    encoded = wrap_pbkdf2(PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000))
    summary = PBKDF2WrappedArgon2idPasswordHasher().safe_summary(encoded)
    assert summary["iterations"] == 1000
    assert "saltsaltsalt" not in str(summary)
    assert PBKDF2WrappedArgon2idPasswordHasher().must_update(encoded)
