"""Delivery states as one transition table (in the manner of h11's ``_state.py``).

Every change of a message's stored state is an event applied here first;
the store persists what :func:`next_state` decided, and selects the rows an
event may move with :func:`states_accepting`, so the SQL and this table cannot
disagree. An event the table does not allow raises ``LocalProtocolError``:
it would be a bug on our side, never the peer's fault.

``overdue`` is not stored: it is derived from the deadline when a message is
shown (:func:`redline.domain.messages.visible_state`).
"""

from __future__ import annotations

import enum

from redline.domain.messages import DeliveryState, Direction
from redline.errors import LocalProtocolError

Q, S, D, A = (DeliveryState.QUEUED, DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.ACKNOWLEDGED)


class DeliveryEvent(enum.StrEnum):
    COMMITTED = "committed"  # an outbound envelope entered the outbox
    STORED = "stored"  # an inbound envelope was stored here (and receipted)
    TRANSMITTED = "transmitted"  # a batch holding it has been outstanding a while
    RECEIPTED = "receipted"  # the peer's signed receipt for it was verified and recorded
    ACKNOWLEDGED = "acknowledged"  # a person acknowledged it (here, or at the peer)


INITIAL: dict[tuple[Direction, DeliveryEvent], DeliveryState] = {
    (Direction.OUTBOUND, DeliveryEvent.COMMITTED): Q,
    (Direction.INBOUND, DeliveryEvent.STORED): D,
}

# (state, event) -> state. Answers may overtake receipts (an acknowledgement or a link-test
# reply can arrive before the receipt of what it answers): a late receipt is still recorded,
# and the state never goes backwards.
TRANSITIONS: dict[tuple[DeliveryState, DeliveryEvent], DeliveryState] = {
    (Q, DeliveryEvent.TRANSMITTED): S,
    (Q, DeliveryEvent.RECEIPTED): D,
    (S, DeliveryEvent.RECEIPTED): D,
    (A, DeliveryEvent.RECEIPTED): A,
    (Q, DeliveryEvent.ACKNOWLEDGED): A,
    (S, DeliveryEvent.ACKNOWLEDGED): A,
    (D, DeliveryEvent.ACKNOWLEDGED): A,
}


def initial_state(direction: Direction, event: DeliveryEvent) -> DeliveryState:
    try:
        return INITIAL[(direction, event)]
    except KeyError:
        raise LocalProtocolError(f"an {direction.value} message cannot begin with {event.value}") from None


def next_state(state: DeliveryState, event: DeliveryEvent) -> DeliveryState:
    """The state after ``event``; raises ``LocalProtocolError`` if the table does not allow it."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise LocalProtocolError(f"a {state.value} message cannot be {event.value}") from None


def states_accepting(event: DeliveryEvent) -> frozenset[DeliveryState]:
    """The stored states from which ``event`` is allowed (what the store's UPDATE selects on)."""
    return frozenset(state for state, ev in TRANSITIONS if ev is event)


def moved_by(event: DeliveryEvent) -> dict[DeliveryState, DeliveryState]:
    """state -> state after ``event``, for the states it applies to (the store's CASE)."""
    return {state: after for (state, ev), after in TRANSITIONS.items() if ev is event}
