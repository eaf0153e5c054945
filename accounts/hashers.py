"""Password hashing: Argon2id at OWASP's recommended minimum (docs/performance.md, Password hashing), and
Argon2id wrapped around the PBKDF2 hashes stored before it."""

from __future__ import annotations

from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    BasePasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    mask_hash,
)
from django.utils.translation import gettext_noop as _


def _algorithm(hasher: BasePasswordHasher | type[BasePasswordHasher]) -> str:
    """A concrete hasher's algorithm name (django-stubs types it as the base class's `str | None`)."""
    if hasher.algorithm is None:
        raise TypeError(f"{hasher} names no algorithm")
    return hasher.algorithm


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id with 19 MiB, 2 passes, 1 lane: OWASP's minimum, 19 ms a login here.

    Django's own defaults (100 MiB, 8 lanes) cost 171 ms and 100 MiB per concurrent login. The
    algorithm name stays `argon2`, so hashes made with other parameters still verify and are
    rehashed with these at the next login.
    """

    time_cost = 2
    memory_cost = 19_456  # KiB
    parallelism = 1


class PBKDF2WrappedArgon2idPasswordHasher(BasePasswordHasher):
    """Argon2id over an old PBKDF2-SHA256 hash (Django's "password upgrading without requiring a login").

    accounts/migrations/0005 wraps every stored `pbkdf2_sha256$<iterations>$<salt>$<hash>` into
    `argon2id_pbkdf2_sha256$<iterations>$<salt>$argon2id$...`: the Argon2id hash of the PBKDF2 hash, so
    a leaked table is as hard to crack as one of new hashes, before the users log in again. A password
    is checked by computing its PBKDF2 hash with the stored salt and iterations, then verifying that
    with Argon2id; at the next login Django rehashes it with plain Argon2id (the first hasher).
    """

    algorithm = "argon2id_pbkdf2_sha256"
    inner = PBKDF2PasswordHasher

    def wrap(self, pbkdf2_encoded: str) -> str:
        """The wrapped form of a stored PBKDF2 hash of `inner`'s algorithm."""
        algorithm, iterations, salt, inner_hash = pbkdf2_encoded.split("$", 3)
        if algorithm != self.inner.algorithm:
            raise ValueError(f"not a {self.inner.algorithm} hash")
        argon2 = Argon2idPasswordHasher()
        outer = argon2.encode(inner_hash, argon2.salt()).removeprefix(_algorithm(argon2))
        return f"{self.algorithm}${iterations}${salt}{outer}"

    def encode(self, password: str, salt: str) -> str:
        return self.wrap(self.inner().encode(password, salt))

    def decode(self, encoded: str) -> dict:
        algorithm, iterations, salt, outer = encoded.split("$", 3)
        if algorithm != self.algorithm:
            raise ValueError(f"not a {self.algorithm} hash")
        return {"algorithm": algorithm, "iterations": int(iterations), "salt": salt, "outer": "argon2$" + outer}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        inner_hash = self.inner().encode(password, decoded["salt"], decoded["iterations"]).split("$", 3)[3]
        return Argon2idPasswordHasher().verify(inner_hash, decoded["outer"])

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        outer = Argon2idPasswordHasher().safe_summary(decoded["outer"])
        return {
            _("algorithm"): decoded["algorithm"],
            _("iterations"): decoded["iterations"],
            _("salt"): mask_hash(decoded["salt"]),
            **{f"argon2 {key}": value for key, value in outer.items()},
        }

    def must_update(self, encoded: str) -> bool:
        return True  # to plain Argon2id at the next login

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


class PBKDF2SHA1WrappedArgon2idPasswordHasher(PBKDF2WrappedArgon2idPasswordHasher):
    """The same over an old PBKDF2-SHA1 hash."""

    algorithm = "argon2id_pbkdf2_sha1"
    inner = PBKDF2SHA1PasswordHasher


WRAPPERS = (PBKDF2WrappedArgon2idPasswordHasher, PBKDF2SHA1WrappedArgon2idPasswordHasher)


def wrap_pbkdf2(encoded: str) -> str | None:
    """The Argon2id-wrapped form of a stored PBKDF2 hash, or None if `encoded` is not one."""
    for wrapper in WRAPPERS:
        if encoded.startswith(_algorithm(wrapper.inner) + "$"):
            return wrapper().wrap(encoded)
    return None
