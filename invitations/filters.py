"""Query filters of the invitation inbox."""

from __future__ import annotations

import django_filters

from calendars.models import Invitation, InvitationStatus


class InboxFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=InvitationStatus.choices, help_text="Only invitations in this state (`pending` for open ones)."
    )

    class Meta:
        model = Invitation
        fields = ["status"]
