"""A relation between two users: a friend request, a friendship, a rejection or a block."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least

if TYPE_CHECKING:
    from accounts.models import User

# Friend requests one user may have waiting for an answer (OWASP API4): a 400 at the cap. A count, so no
# constraint holds it: contacts.services counts it under the requester's row lock. See docs/contacts.md.
MAX_PENDING_REQUESTS_PER_USER = 100


class ContactStatus(models.IntegerChoices):
    """`ContactStatusEnum`, numbered as in the system the spec was generated from."""

    FRIENDS = 1, "friends"
    PENDING = 2, "pending"
    REJECTED = 3, "rejected"
    BLOCKED = 4, "blocked"


class ContactQuerySet(models.QuerySet["Contact"]):
    def involving(self, user: User) -> ContactQuerySet:
        """Relations the user is part of, on either side."""
        return self.filter(Q(userA=user) | Q(userB=user))

    def between(self, a: User, b: User) -> ContactQuerySet:
        """The relation of an unordered pair (at most one row)."""
        return self.filter(Q(userA=a, userB=b) | Q(userA=b, userB=a))


class Contact(models.Model):
    """At most one per unordered pair; `userA` is the user who acted (requester or blocker)."""

    userA = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contacts_as_a")
    userB = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contacts_as_b")
    status = models.PositiveSmallIntegerField(choices=ContactStatus.choices, default=ContactStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Least("userA", "userB"), Greatest("userA", "userB"), name="contact_unique_pair"),
            models.CheckConstraint(condition=~Q(userA=F("userB")), name="contact_not_self"),
            models.CheckConstraint(condition=Q(status__in=ContactStatus.values), name="contact_status_valid"),
        ]
        indexes = [models.Index(fields=["userB", "status"], name="contact_userb_status")]

    def __str__(self) -> str:
        return f"{self.userA_id} -> {self.userB_id}: {self.get_status_display()}"

    def other(self, user: User) -> User:
        """The other party of the relation, seen from `user`."""
        return self.userB if self.userA_id == user.pk else self.userA
