"""Password hashing: Argon2id at OWASP's recommended minimum (docs/performance.md, Password hashing)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id with 19 MiB, 2 passes, 1 lane: OWASP's minimum, 19 ms a login here.

    Django's own defaults (100 MiB, 8 lanes) cost 171 ms and 100 MiB per concurrent login. The
    algorithm name stays `argon2`, so hashes made with other parameters still verify and are
    rehashed with these at the next login.
    """

    time_cost = 2
    memory_cost = 19_456  # KiB
    parallelism = 1
