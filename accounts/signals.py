"""What the accounts app tells the apps above it, so it never imports them (README.md, "Layout").

`user_deleting(sender, user)` is sent inside the transaction that deletes an account
(`accounts.services.user_delete`), after the password was checked and before the user row goes.
Receivers do what a cascade cannot: the calendars app tells the participants of the user's
calendars that they are gone. Everything else that belongs to the user goes by cascade with the
row. A receiver that raises rolls the deletion back. Receivers lock what they need in their own
lock order; the user row is only locked against another deletion (FOR NO KEY UPDATE), so rows
that merely point at the user can still be written meanwhile.
"""

from __future__ import annotations

import django.dispatch

user_deleting = django.dispatch.Signal()
