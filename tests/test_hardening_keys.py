"""No public signing key, and no 500 for a signed token with odd claims; see docs/security.md (API2, API8).

With DEBUG off, a key written in the repository is refused; without DJANGO_SECRET_KEY a random key is
generated once into a file outside the repository (oneonone/keys.py). JWT_SIGNING_KEY must not be a
published or short key either.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from oneonone import keys
from tests.factories import UserFactory
from tests.routes import METHODS, example_paths

ROOT = Path(__file__).resolve().parent.parent
KEY_VARIABLES = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DJANGO_DEBUG", "DJANGO_REQUIRE_SECRET_KEY")


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No key variables; XDG_STATE_HOME in a temporary folder."""
    for name in (*KEY_VARIABLES, "DJANGO_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return monkeypatch


def secret_key(debug=False, require=False, key_file=""):
    return keys.django_secret_key(debug=debug, require=require, key_file=key_file, repository=ROOT)


class TestSecretKey:
    def test_without_a_key_one_is_generated_once_outside_the_repository(self, env, tmp_path, caplog):
        first = secret_key()
        path = tmp_path / "state" / "oneonone" / "secret_key"
        assert path.read_text().strip() == first
        assert len(first) >= 64
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert str(path) in caplog.text  # the log says where it is
        assert secret_key() == first
        assert secret_key(debug=True) == first  # DEBUG and tests use the file too: no key in the code

    def test_an_empty_key_counts_as_none(self, env, tmp_path):
        env.setenv("DJANGO_SECRET_KEY", "  ")
        assert secret_key() == (tmp_path / "state" / "oneonone" / "secret_key").read_text().strip()

    def test_the_key_file_can_be_named(self, env, tmp_path):
        path = tmp_path / "elsewhere" / "key"
        assert secret_key(key_file=str(path)) == path.read_text().strip()

    def test_a_given_key_wins(self, env):
        env.setenv("DJANGO_SECRET_KEY", "k" * 50)
        assert secret_key() == "k" * 50

    @pytest.mark.parametrize("known", sorted(keys.KNOWN_KEYS))
    def test_a_published_key_is_refused_without_debug(self, env, known):
        env.setenv("DJANGO_SECRET_KEY", known)
        with pytest.raises(ImproperlyConfigured, match="published in this repository"):
            secret_key()
        assert secret_key(debug=True) == known

    def test_required_key(self, env):
        with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set"):
            secret_key(require=True)

    def test_a_key_file_in_the_repository_is_refused(self, env):
        with pytest.raises(ImproperlyConfigured, match="inside the repository"):
            secret_key(key_file=str(ROOT / "secret_key"))
        assert not (ROOT / "secret_key").exists()

    def test_an_unwritable_place_is_a_clear_error(self, env, tmp_path):
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        with pytest.raises(ImproperlyConfigured, match="cannot be read or written"):
            secret_key(key_file=str(blocker / "key"))


class TestJwtSigningKey:
    @pytest.mark.parametrize("known", sorted(keys.KNOWN_KEYS))
    def test_a_published_key_is_refused(self, env, known):
        env.setenv("JWT_SIGNING_KEY", known)
        with pytest.raises(ImproperlyConfigured, match="published in this repository"):
            keys.jwt_signing_key(secret_key="s" * 50, debug=False)

    def test_a_short_key_is_refused(self, env):
        env.setenv("JWT_SIGNING_KEY", "short-secret")
        with pytest.raises(ImproperlyConfigured, match="needs at least 32"):
            keys.jwt_signing_key(secret_key="s" * 50, debug=False)
        env.delenv("JWT_SIGNING_KEY")
        with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
            keys.jwt_signing_key(secret_key="short", debug=False)

    def test_an_empty_key_falls_back_to_the_secret_key(self, env):
        env.setenv("JWT_SIGNING_KEY", "")
        assert keys.jwt_signing_key(secret_key="s" * 50, debug=False) == "s" * 50


def run_settings(env: dict, *code: str) -> subprocess.CompletedProcess:
    script = "import django; django.setup(); from django.conf import settings; " + "; ".join(code)
    clean = {k: v for k, v in os.environ.items() if k not in (*KEY_VARIABLES, "DJANGO_SECRET_KEY_FILE")}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "oneonone.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_server_refuses_to_start_on_a_published_key():
    result = run_settings({"DJANGO_SECRET_KEY": "change-me-in-production"}, "print(settings.SECRET_KEY)")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is a key published in this repository" in result.stderr


def test_processes_starting_together_agree_on_one_generated_key(tmp_path):
    """gunicorn's workers import the settings at the same moment: one writes the key, all read it."""
    env = {"DJANGO_SECRET_KEY_FILE": str(tmp_path / "key")}
    script = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    clean = {k: v for k, v in os.environ.items() if k not in (*KEY_VARIABLES, "DJANGO_SECRET_KEY_FILE")}
    processes = [
        subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**clean, "DJANGO_SETTINGS_MODULE": "oneonone.settings", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert {out.strip() for out, _ in outputs} == {(tmp_path / "key").read_text().strip()}
    assert sum("generated a signing key" in err for _, err in outputs) == 1


def test_no_other_key_is_written_in_the_repository():
    """Every literal given to DJANGO_SECRET_KEY, JWT_SIGNING_KEY or SECRET_KEY in a tracked file is in
    KNOWN_KEYS (refused without DEBUG): a key added to a script or compose file must be listed there."""
    quoted = re.compile(r"""(?:DJANGO_SECRET_KEY|JWT_SIGNING_KEY)["']?\s*(?:=|:-|:)\s*["']([^"'$\s]+)["']""")
    default = re.compile(r"""get\(\s*["'](?:DJANGO_SECRET_KEY|JWT_SIGNING_KEY)["']\s*,\s*["']([^"'$]+)["']""")
    bare = re.compile(r"""(?:DJANGO_SECRET_KEY|JWT_SIGNING_KEY)(?:=|:-)([^\s"'$}()]+)""")
    setting = re.compile(r"""\bSECRET_KEY\s*=\s*["']([^"'$]+)["']""")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout  # noqa: S607
    found = {}
    for name in files.split():
        path = ROOT / name
        if name in ("oneonone/keys.py", "tests/test_hardening_keys.py") or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for pattern in (quoted, default, bare, setting):
            for match in pattern.finditer(text):
                found.setdefault(match.group(1), name)
    assert {key: name for key, name in found.items() if key not in keys.KNOWN_KEYS} == {}


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # some published keys are short
def test_tokens_signed_with_a_published_key_are_refused(api_client):
    assert settings.SECRET_KEY not in keys.KNOWN_KEYS
    assert settings.SIMPLE_JWT["SIGNING_KEY"] not in keys.KNOWN_KEYS
    claims = dict(AccessToken.for_user(UserFactory()).payload)
    for known in keys.KNOWN_KEYS:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt.encode(claims, known, algorithm='HS256')}")
        assert api_client.get("/auth/me/").status_code == 401


# --- Signed tokens with odd claims: 401, never 500 --------------------------------------------------------------

BAD_USER_IDS = ["abc", "1.0", "", " 1", "01", "1e3", "\uff11", "-1", "0", 1.5, 1.0, True, [1], {"a": 1}, None, 0, -5]
BAD_USER_IDS += [2**63, str(2**63), "9" * 5000, 2**70]


def signed(token_class, user, **claims) -> str:
    payload = {**dict(token_class.for_user(user).payload), **claims}
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", BAD_USER_IDS, ids=lambda value: repr(value)[:24])
def test_a_user_id_that_is_not_an_id_is_401(api_client, user, user_id):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(AccessToken, user, user_id=user_id)}")
    response = api_client.get("/auth/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    api_client.credentials()
    refresh = signed(RefreshToken, user, user_id=user_id)
    assert api_client.post("/auth/refresh/", {"refresh": refresh}, format="json").status_code == 401
    assert api_client.post("/auth/logout/", {"refresh": refresh}, format="json").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", 1e300), ("exp", 10**30), ("iat", "abc"), ("iat", 10**30), ("jti", [1]), ("jti", 5), ("jti", "x" * 300)],
    ids=lambda value: repr(value)[:24],
)
def test_other_odd_claims_are_401(api_client, user, claim, value):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(AccessToken, user, **{claim: value})}")
    assert api_client.get("/auth/me/").status_code == 401
    api_client.credentials()
    refresh = signed(RefreshToken, user, **{claim: value})
    assert api_client.post("/auth/refresh/", {"refresh": refresh}, format="json").status_code == 401
    assert api_client.post("/auth/logout/", {"refresh": refresh}, format="json").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("family", [[1], 5, "", "x" * 300], ids=lambda value: repr(value)[:24])
def test_an_odd_family_claim_is_401(api_client, user, family):
    refresh = signed(RefreshToken, user, fam=family)
    assert api_client.post("/auth/refresh/", {"refresh": refresh}, format="json").status_code == 401
    assert api_client.post("/auth/logout/", {"refresh": refresh}, format="json").status_code == 401


@pytest.mark.django_db
def test_every_authenticated_route_answers_401_for_a_user_id_that_is_not_an_id(user):
    """Every route and method: where an anonymous caller gets 401, so does a token whose user id is "abc"
    (or 1.5, which used to read as user 1); no route answers 5xx. The admin's routes read sessions only."""
    routes = [(path, method) for path in example_paths() if not path.startswith("/admin/") for method in METHODS]
    anonymous = {(path, method): getattr(APIClient(), method)(path).status_code for path, method in routes}
    assert 401 in anonymous.values()
    for bad in ("abc", 1.5, [1]):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(AccessToken, user, user_id=bad)}")
        for path, method in routes:
            response = getattr(client, method)(path)
            assert response.status_code < 500, (bad, method, path)
            if anonymous[path, method] == 401:
                assert response.status_code == 401, (bad, method, path, response.content[:200])
