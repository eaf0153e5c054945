"""Every legal move on a relation between two users; each refusal is a clear 403/404/409.

The state of a pair is read with a row lock, so two moves on one relation run one after
the other. Two users creating the pair's first relation at the same moment collide on
the `contact_unique_pair` constraint; the loser re-reads and answers as if it came second.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.settings import api_settings

from contacts.models import MAX_PENDING_REQUESTS_PER_USER, Contact, ContactStatus
from contacts.selectors import contact_between
from contacts.signals import contact_accepted, contact_requested, relation_severed
from oneonone.exceptions import Conflict

if TYPE_CHECKING:
    from accounts.models import User


class State(enum.Enum):
    """A relation as one of its two users sees it."""

    NONE = "none"
    OUTGOING = "outgoing"  # my request, not answered yet
    INCOMING = "incoming"  # their request, waiting for my answer
    FRIENDS = "friends"
    I_REJECTED = "i_rejected"  # I declined their request
    THEY_REJECTED = "they_rejected"  # they declined my request
    I_BLOCKED = "i_blocked"
    THEY_BLOCKED = "they_blocked"


def state_of(relation: Contact | None, *, user: User) -> State:
    if relation is None:
        return State.NONE
    mine = relation.userA_id == user.pk
    states: dict[int, State] = {
        ContactStatus.FRIENDS: State.FRIENDS,
        ContactStatus.PENDING: State.OUTGOING if mine else State.INCOMING,
        ContactStatus.REJECTED: State.THEY_REJECTED if mine else State.I_REJECTED,
        ContactStatus.BLOCKED: State.I_BLOCKED if mine else State.THEY_BLOCKED,
    }
    return states[relation.status]


_ALREADY_FRIENDS = (Conflict, "You and {name} are already friends.")
_OUTGOING = (Conflict, "You already sent {name} a request; they have not answered yet.")
_INCOMING = (Conflict, "{name} already sent you a request; accept it.")
_THEY_REJECTED = (Conflict, "{name} declined your request.")
_I_BLOCKED = (Conflict, "You blocked {name}; unblock them first.")
_THEY_BLOCKED = (Conflict, "{name} has blocked you.")
_BLOCK_IS_THEIRS = (PermissionDenied, "Only {name} can lift this block.")
_NO_RELATION = (NotFound, "You have no relation with {name}.")
_NOT_YOUR_REQUEST = {
    State.NONE: (NotFound, "{name} has not sent you a request."),
    State.OUTGOING: (Conflict, "You sent this request; {name} has to answer it."),
    State.FRIENDS: _ALREADY_FRIENDS,
    State.I_REJECTED: (Conflict, "You already declined {name}'s request."),
    State.THEY_REJECTED: _THEY_REJECTED,
    State.I_BLOCKED: _I_BLOCKED,
    State.THEY_BLOCKED: _THEY_BLOCKED,
}

# Why each move is refused in each state where it does not apply (docs/contacts.md has the table).
REFUSALS: dict[str, dict[State, tuple[type[APIException], str]]] = {
    "add": {
        State.OUTGOING: _OUTGOING,
        State.INCOMING: _INCOMING,
        State.FRIENDS: _ALREADY_FRIENDS,
        State.THEY_REJECTED: _THEY_REJECTED,
        State.I_BLOCKED: _I_BLOCKED,
        State.THEY_BLOCKED: _THEY_BLOCKED,
    },
    "accept": _NOT_YOUR_REQUEST,
    "reject": _NOT_YOUR_REQUEST,
    "block": {
        State.I_BLOCKED: (Conflict, "You already blocked {name}."),
        State.THEY_BLOCKED: _THEY_BLOCKED,
    },
    "unblock": {
        State.NONE: _NO_RELATION,
        State.OUTGOING: (Conflict, "You have not blocked {name}."),
        State.INCOMING: (Conflict, "You have not blocked {name}."),
        State.FRIENDS: (Conflict, "You have not blocked {name}."),
        State.I_REJECTED: (Conflict, "You have not blocked {name}."),
        State.THEY_REJECTED: (Conflict, "You have not blocked {name}."),
        State.THEY_BLOCKED: _BLOCK_IS_THEIRS,
    },
    "unadd": {
        State.NONE: _NO_RELATION,
        State.INCOMING: (Conflict, "{name}'s request is waiting for your answer; accept or reject it."),
        State.THEY_REJECTED: (Conflict, "{name} declined your request; only they can clear it."),
        State.I_BLOCKED: (Conflict, "You blocked {name}; unblock them instead."),
        State.THEY_BLOCKED: _BLOCK_IS_THEIRS,
    },
}

RACE_LOST = "The relation with {name} changed at the same moment; try again."


def _refuse(action: str, state: State, other: User) -> APIException:
    exception, message = REFUSALS[action][state]
    return exception(message.format(name=other.username))


def _check_not_self(actor: User, other: User) -> None:
    if actor.pk == other.pk:
        raise ValidationError({"username": ["You cannot have a relation with yourself."]})


def _create(*, actor: User, other: User, status: int) -> Contact | None:
    """Insert the pair's first relation; None when another request created one first."""
    try:
        with transaction.atomic():
            return Contact.objects.create(userA=actor, userB=other, status=status)
    except IntegrityError:
        return None


def _rewrite(relation: Contact, *, actor: User, other: User, status: int) -> Contact:
    relation.userA, relation.userB, relation.status = actor, other, status
    relation.save(update_fields=["userA", "userB", "status", "updated_at"])
    return relation


def _set_status(relation: Contact, status: int) -> Contact:
    relation.status = status
    relation.save(update_fields=["status", "updated_at"])
    return relation


def _remove(relation: Contact) -> Contact:
    # A queryset delete keeps `relation.pk`, so the answer shows the relation as it was.
    Contact.objects.filter(pk=relation.pk).delete()
    return relation


def _create_or_rewrite(*, action: str, actor: User, other: User, status: int, rewritable: set[State]) -> Contact:
    """Make `actor -> other` have `status`: insert on NONE, rewrite from `rewritable`, else refuse.

    A new request (`add`) is refused with a 400 past MAX_PENDING_REQUESTS_PER_USER, once the move is
    legal: a request that could not be sent anyway says why.
    """
    _check_not_self(actor, other)
    for _attempt in range(2):
        relation = contact_between(user=actor, other=other, lock=True)
        state = state_of(relation, user=actor)
        if action == "add" and (state is State.NONE or state in rewritable):
            _check_request_room(actor)
        if relation is None:  # State.NONE
            created = _create(actor=actor, other=other, status=status)
            if created is not None:
                return created
            continue  # lost the race for the first row: decide again on the winner's row
        if state in rewritable:
            return _rewrite(relation, actor=actor, other=other, status=status)
        raise _refuse(action, state, other)
    raise Conflict(RACE_LOST.format(name=other.username))


def _check_request_room(actor: User) -> None:
    """400 when `actor` already has MAX_PENDING_REQUESTS_PER_USER requests waiting for an answer.

    Counted under the actor's row lock (FOR NO KEY UPDATE, taken after the relation's, as every path here
    locks), so parallel requests of one user cannot pass the cap together.
    """
    get_user_model().objects.select_for_update(no_key=True).filter(pk=actor.pk).values_list("pk").first()
    waiting = Contact.objects.filter(userA=actor, status=ContactStatus.PENDING).count()
    if waiting >= MAX_PENDING_REQUESTS_PER_USER:
        raise ValidationError(
            {
                api_settings.NON_FIELD_ERRORS_KEY: [
                    f"You already have {waiting} friend requests waiting for an answer, the most allowed; "
                    "cancel one (POST /contacts/unadd/) to send another."
                ]
            }
        )


@transaction.atomic
def contact_add(*, actor: User, other: User) -> Contact:
    """Send `other` a friend request; the one who declined a request may send one back."""
    relation = _create_or_rewrite(
        action="add", actor=actor, other=other, status=ContactStatus.PENDING, rewritable={State.I_REJECTED}
    )
    contact_requested.send(sender=Contact, contact=relation, requester=actor, recipient=other)
    return relation


def _answer(*, action: str, actor: User, other: User, status: int) -> Contact:
    _check_not_self(actor, other)
    relation = contact_between(user=actor, other=other, lock=True)
    state = state_of(relation, user=actor)
    if relation is None or state is not State.INCOMING:  # no relation is State.NONE
        raise _refuse(action, state, other)
    return _set_status(relation, status)


@transaction.atomic
def contact_accept(*, actor: User, other: User) -> Contact:
    """Accept `other`'s pending request: friends (userA stays the requester)."""
    relation = _answer(action="accept", actor=actor, other=other, status=ContactStatus.FRIENDS)
    contact_accepted.send(sender=Contact, contact=relation, requester=other, accepter=actor)
    return relation


@transaction.atomic
def contact_reject(*, actor: User, other: User) -> Contact:
    """Decline `other`'s pending request: rejected (userA stays the requester)."""
    return _answer(action="reject", actor=actor, other=other, status=ContactStatus.REJECTED)


@transaction.atomic
def contact_block(*, actor: User, other: User) -> Contact:
    """Block `other`, whatever stood between them, unless `other` blocked `actor` first."""
    blocked = _create_or_rewrite(
        action="block",
        actor=actor,
        other=other,
        status=ContactStatus.BLOCKED,
        rewritable={State.OUTGOING, State.INCOMING, State.FRIENDS, State.I_REJECTED, State.THEY_REJECTED},
    )
    # A blocked user must not stay a participant of (or invitee to) the other's calendars.
    relation_severed.send(sender=Contact, user_a=actor, user_b=other)
    return blocked


@transaction.atomic
def contact_unblock(*, actor: User, other: User) -> Contact:
    """Lift a block `actor` made; answers the relation as it was removed."""
    _check_not_self(actor, other)
    relation = contact_between(user=actor, other=other, lock=True)
    state = state_of(relation, user=actor)
    if relation is None or state is not State.I_BLOCKED:  # no relation is State.NONE
        raise _refuse("unblock", state, other)
    return _remove(relation)


@transaction.atomic
def contact_unadd(*, actor: User, other: User) -> Contact:
    """End a friendship, cancel my request or clear a rejection I made; never lifts a block."""
    _check_not_self(actor, other)
    relation = contact_between(user=actor, other=other, lock=True)
    state = state_of(relation, user=actor)
    if relation is None or state not in {State.FRIENDS, State.OUTGOING, State.I_REJECTED}:  # None is State.NONE
        raise _refuse("unadd", state, other)
    if state is State.FRIENDS:
        # Former friends stop sharing calendars: invitations either way end, participants leave.
        relation_severed.send(sender=Contact, user_a=actor, user_b=other)
    return _remove(relation)


@transaction.atomic
def contact_remove(*, actor: User, other: User) -> Contact:
    """DELETE of a relation: unblock for the blocker, unadd for everything else."""
    relation = contact_between(user=actor, other=other, lock=True)
    if state_of(relation, user=actor) is State.I_BLOCKED:
        return contact_unblock(actor=actor, other=other)
    return contact_unadd(actor=actor, other=other)


_MOVES = {
    ContactStatus.FRIENDS: contact_accept,
    ContactStatus.PENDING: contact_add,
    ContactStatus.REJECTED: contact_reject,
    ContactStatus.BLOCKED: contact_block,
}


@transaction.atomic
def contact_change_status(*, actor: User, other: User, status: int) -> Contact:
    """PUT/PATCH of `status`: the same move as the matching action endpoint; no change is a no-op."""
    relation = contact_between(user=actor, other=other, lock=True)
    if relation is None:
        raise _refuse("unadd", State.NONE, other)
    if relation.status == status:
        return relation
    return _MOVES[ContactStatus(status)](actor=actor, other=other)
