"""What the contacts app tells the apps above it, so it never imports them (README.md, "Layout").

`relation_severed(sender, user_a, user_b)` is sent inside the transaction of a move that ends what
two users shared: unfriending, and blocking (whatever stood between them before). Receivers run in
that transaction, in order; one that raises rolls the whole move back. The invitations app connects
to it to end the invitations between the two (a blocked or former friend stops being a participant).
"""

from __future__ import annotations

import django.dispatch

relation_severed = django.dispatch.Signal()
