"""The invitations' section of an account's export (accounts.export): every invitation addressed to me."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from invitations.selectors import invitation_inbox
from invitations.serializers import InboxInvitationSerializer

if TYPE_CHECKING:
    from accounts.models import User


def invitations(user: User) -> list[dict[str, Any]]:
    # djangorestframework-stubs gap: many=True makes a ListSerializer, whose .data is a list, not a ReturnDict.
    return InboxInvitationSerializer(invitation_inbox(user=user), many=True).data  # type: ignore[return-value]


def register_sections() -> None:
    from accounts import export

    export.register("invitations", build=invitations, schema=lambda: InboxInvitationSerializer(many=True))
