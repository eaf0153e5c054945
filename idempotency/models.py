"""One row per Idempotency-Key a user sent with a write: what the request was and the answer it got.

The row is claimed (inserted) at the start of the request's transaction and filled with the answer at its
end, in the same transaction as the change: a committed row always holds its answer, and a request that
rolled back left no row. Rows older than IDEMPOTENCY_KEY_HOURS are deleted by a periodic task.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    # The unique constraint's index starts with the user, so the foreign key needs no index of its own.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=7)
    path = models.TextField()
    # SHA-256 of the method, the path, the media type and the body (JSON canonicalized), in hex.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    # The answer. Null only inside the transaction that claimed the key, which fills them before it commits.
    status_code = models.PositiveSmallIntegerField(null=True)
    headers = models.JSONField(null=True)
    body = models.BinaryField(null=True)

    class Meta:
        db_table = "idempotency_key"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.key!r} of user {self.user_id}: {self.method} {self.path} -> {self.status_code}"
