"""What the invitations app tells the apps above it, so it never imports them (README.md, "Layout").

Each signal is sent inside the transaction of the change, with the calendar row locked; receivers
run in that transaction and one that raises rolls the change back.

- `invitation_created(sender, invitation)`: the creator invited someone, for the first time or
  again after a rejection (the same row, pending again).
- `invitation_answered(sender, invitation, previous)`: the invitee changed their answer from
  `previous` to `invitation.status` (accepted, rejected, or leaving after accepting); `invitation`
  comes with `invitee` and `calendar.creator` loaded.
"""

from __future__ import annotations

import django.dispatch

invitation_created = django.dispatch.Signal()
invitation_answered = django.dispatch.Signal()
