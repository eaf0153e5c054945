"""The user model: Django's, swappable from the first migration."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """A OneOnOne user; username rules as Django's (150 chars, letters, digits and @/./+/-/_)."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["id"]
        constraints = [
            # "Alice" and "alice" would be indistinguishable to the people inviting them.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]
