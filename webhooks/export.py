"""The webhooks' section of an account's export (accounts.export): my endpoints, never their secrets."""

from __future__ import annotations

from typing import Any

from webhooks.selectors import endpoints_of
from webhooks.serializers import WebhookSerializer


def webhooks(user) -> list[dict[str, Any]]:
    return WebhookSerializer(endpoints_of(user=user), many=True).data


def register_sections() -> None:
    from accounts import export

    export.register("webhooks", build=webhooks, schema=lambda: WebhookSerializer(many=True))
