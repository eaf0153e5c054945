"""The export of an account (`GET /auth/me/export/`): one JSON document, one section per app.

accounts sits below the apps that hold a user's data, so each of them registers its own section
here (in its AppConfig.ready): a name, a function that builds the section for a user, and the
serializer that describes it, from which the schema's `AccountExport` is made. A section never
holds a secret (a webhook's signing secret, the feed token itself); it says what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from rest_framework import serializers

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    build: Callable[[Any], Any]
    # A new serializer instance describing the section (many=True for a list), for the schema.
    schema: Callable[[], serializers.Field]


_sections: dict[str, Section] = {}


def register(name: str, *, build: Callable[[Any], Any], schema: Callable[[], serializers.Field]) -> None:
    """Add the section `name`: `build(user)` returns its JSON-ready value, `schema()` a serializer describing it."""
    _sections[name] = Section(name=name, build=build, schema=schema)


def sections() -> list[Section]:
    """The sections in registration order (the apps' order in INSTALLED_APPS)."""
    return list(_sections.values())


def export_of(user: User) -> dict[str, Any]:
    """Everything about `user`, section by section."""
    document: dict[str, Any] = {"exported_at": serializers.DateTimeField().to_representation(timezone.now())}
    for section in sections():
        document[section.name] = section.build(user)
    return document
