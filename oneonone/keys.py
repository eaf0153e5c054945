"""The signing keys: from the environment, or generated once into a file outside the repository.

Read by oneonone/settings.py before Django is set up, so only the standard library and Django's
ImproperlyConfigured are used here.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("oneonone.keys")

# Every key ever written in this repository: public, so anyone could sign sessions and tokens with it.
# Refused unless DEBUG is on. tests/test_hardening_keys.py checks that no other key is written anywhere.
KNOWN_KEYS = frozenset(
    {
        "insecure-local-development-key-change-me-0123456789-abcdefghijklmnop",  # oneonone/settings.py, until 2026-11
        "change-me-in-production",  # docker-compose.yml's fallback, until 2026-11
        "collectstatic-only",  # the Dockerfile's build step, until 2026-11
        # scripts/ci/delivery.sh: a server without DEBUG, so it must be given a random key instead.
        "delivery-story-key-0123456789abcdef",
    }
)
# RFC 7518, section 3.2: an HS256 key has at least 256 bits; a shorter one falls to offline guessing
# from any token.
MIN_JWT_KEY_BYTES = 32


def default_key_file() -> Path:
    """$XDG_STATE_HOME/oneonone/secret_key (~/.local/state/oneonone/secret_key by default)."""
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "oneonone" / "secret_key"


def django_secret_key(*, debug: bool, require: bool, key_file: str, repository: Path) -> str:
    """DJANGO_SECRET_KEY if set (a published key only with DEBUG on); else the key file's, created on first use."""
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key.strip():
        if key in KNOWN_KEYS and not debug:
            raise ImproperlyConfigured(
                "DJANGO_SECRET_KEY is a key published in this repository, so anyone can sign sessions and "
                "tokens with it. Set a secret one: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return key
    if require and not debug:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (DJANGO_REQUIRE_SECRET_KEY is on)")
    return _key_from_file(Path(key_file) if key_file else default_key_file(), repository)


def jwt_signing_key(*, secret_key: str, debug: bool) -> str:
    """JWT_SIGNING_KEY if set and not empty, else the Django secret key; refused if published or short."""
    key = os.environ.get("JWT_SIGNING_KEY", "") or secret_key
    if not debug:
        if key in KNOWN_KEYS:
            raise ImproperlyConfigured("JWT_SIGNING_KEY is a key published in this repository; set a secret one")
        if len(key.encode()) < MIN_JWT_KEY_BYTES:
            name = "JWT_SIGNING_KEY" if os.environ.get("JWT_SIGNING_KEY") else "DJANGO_SECRET_KEY (which signs JWTs)"
            raise ImproperlyConfigured(
                f"{name} has {len(key.encode())} bytes; an HS256 key needs at least {MIN_JWT_KEY_BYTES} "
                "(RFC 7518), or it can be guessed offline from any token"
            )
    return key


def _key_from_file(path: Path, repository: Path) -> str:
    path = path.expanduser().absolute()
    if path.resolve().is_relative_to(repository.resolve()):
        raise ImproperlyConfigured(
            f"The secret key file {path} is inside the repository, where it could be committed or built into "
            "an image; set DJANGO_SECRET_KEY_FILE to a path outside it, or set DJANGO_SECRET_KEY"
        )
    try:
        return _read(path) or _create(path)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is not set and the key file {path} cannot be read or written ({exc}); set "
            "DJANGO_SECRET_KEY (the same on every server), or DJANGO_SECRET_KEY_FILE to a writable path"
        ) from exc


def _read(path: Path) -> str:
    """The key in `path`, or "" if there is no such file."""
    deadline = time.monotonic() + 5
    while True:
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            return ""
        if key:
            if path.stat().st_mode & 0o077:
                logger.warning("the secret key file %s can be read by other users; chmod 600 it", path)
            return key
        # Another process created it a moment ago and is writing the key.
        if time.monotonic() > deadline:
            raise OSError(f"{path} is empty")
        time.sleep(0.05)


def _create(path: Path) -> str:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker of the same server was first
        return _read(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
        file.flush()
        os.fsync(file.fileno())
    logger.warning(
        "DJANGO_SECRET_KEY is not set: generated a signing key in %s (mode 0600). Servers that share "
        "sessions and tokens need the same key: set DJANGO_SECRET_KEY on each.",
        path,
    )
    return key
