"""The webhooks' section of an account's export (accounts.export): my endpoints, never their secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from webhooks.selectors import endpoints_of
from webhooks.serializers import WebhookSerializer

if TYPE_CHECKING:
    from accounts.models import User


def webhooks(user: User) -> list[dict[str, Any]]:
    # djangorestframework-stubs gap: many=True makes a ListSerializer, whose .data is a list, not a ReturnDict.
    return WebhookSerializer(endpoints_of(user=user), many=True).data  # type: ignore[return-value]


def register_sections() -> None:
    from accounts import export

    export.register("webhooks", build=webhooks, schema=lambda: WebhookSerializer(many=True))
