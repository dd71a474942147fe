"""Recording that a message was answered: a person's acknowledgement, or a link test's reply.

Both go through :mod:`redline.domain.delivery`: the answered message's state moves by
the ``ACKNOWLEDGED`` event, and a move the table does not allow raises
``LocalProtocolError`` before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redline.domain.delivery import DeliveryEvent, next_state
from redline.domain.messages import DeliveryState, Direction, MessageKind
from redline.services.ports import Row, WriteTransaction

log = logging.getLogger(__name__)


def check_answerable(row: Row) -> DeliveryState:
    """The state an answer moves ``row`` to (raises ``LocalProtocolError`` if it may not move)."""
    return next_state(DeliveryState(row["state"]), DeliveryEvent.ACKNOWLEDGED)


async def mark_peer_answered(
    tx: WriteTransaction,
    peer_id: str,
    target_id: str,
    answerable: Callable[[MessageKind], bool],
    what: str,
    by: str,
    at: str,
    answer_id: str,
) -> None:
    """The peer answered our message ``target_id``; ignore (and log) an answer to anything else."""
    target = await tx.message(target_id)
    if (
        target is None
        or target["direction"] != Direction.OUTBOUND.value
        or target["peer_id"] != peer_id
        or not answerable(MessageKind(target["kind"]))
    ):
        log.warning("%s answered %s, which is not a %s we sent it", peer_id, target_id, what)
        return
    if target["acked_at"] is not None:
        return  # answered before: the first answer stands
    check_answerable(target)
    await tx.mark_acknowledged(target_id, Direction.OUTBOUND.value, by, at, answer_id)
