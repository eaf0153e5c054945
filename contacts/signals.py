"""What the contacts app tells the apps above it, so it never imports them (README.md, "Layout").

Each signal is sent inside the transaction of the move; receivers run in that transaction, in
order, and one that raises rolls the whole move back. A receiver that causes work outside the
process (a webhook) writes its rows there, so a rolled-back move causes nothing.

- `relation_severed(sender, user_a, user_b)`: a move ended what two users shared: unfriending, and
  blocking (whatever stood between them before). The invitations app connects to it to end the
  invitations between the two (a blocked or former friend stops being a participant).
- `contact_requested(sender, contact, requester, recipient)`: `requester` sent `recipient` a friend
  request (a first one, or one back to someone whose request they had declined); `contact` is the
  pending relation.
- `contact_accepted(sender, contact, requester, accepter)`: `accepter` accepted `requester`'s
  request; `contact` is the relation, now friends.
"""

from __future__ import annotations

import django.dispatch

relation_severed = django.dispatch.Signal()
contact_requested = django.dispatch.Signal()
contact_accepted = django.dispatch.Signal()
