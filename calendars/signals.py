"""What the calendars app tells the apps above it, so it never imports them (README.md, "Layout").

Each signal is sent inside the transaction of the change, with the calendar row locked; receivers
run in that transaction and one that raises rolls the change back. `participants` are the accepted
invitees (users) at that moment; the creator is `calendar.creator`.

- `calendar_finalized(sender, calendar, participants)`: the creator fixed the meeting; `calendar`
  holds the fixed time.
- `calendar_unfinalized(sender, calendar, participants, deleted)`: the fixed meeting is off, because
  the creator undid it (`deleted` False) or the calendar is being deleted (`deleted` True: by its
  creator, or with the creator's account); `calendar` still holds the time being cancelled.
"""

from __future__ import annotations

import django.dispatch

calendar_finalized = django.dispatch.Signal()
calendar_unfinalized = django.dispatch.Signal()
