"""The invitations' section of an account's export (accounts.export): every invitation addressed to me."""

from __future__ import annotations

from typing import Any

from invitations.selectors import invitation_inbox
from invitations.serializers import InboxInvitationSerializer


def invitations(user) -> list[dict[str, Any]]:
    return InboxInvitationSerializer(invitation_inbox(user=user), many=True).data


def register_sections() -> None:
    from accounts import export

    export.register("invitations", build=invitations, schema=lambda: InboxInvitationSerializer(many=True))
