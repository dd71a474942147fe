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
from redline.domain.records import MessageRecord
from redline.services.ports import WriteTransaction

log = logging.getLogger(__name__)


def check_answerable(row: MessageRecord) -> DeliveryState:
    """The state an answer moves ``row`` to (raises ``LocalProtocolError`` if it may not move)."""
    return next_state(row.state, DeliveryEvent.ACKNOWLEDGED)


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
        or target.direction is not Direction.OUTBOUND
        or target.peer_id != peer_id
        or not answerable(target.kind)
    ):
        log.warning("%s answered %s, which is not a %s we sent it", peer_id, target_id, what)
        return
    if target.acked_at is not None:
        return  # answered before: the first answer stands
    check_answerable(target)
    await tx.mark_acknowledged(target_id, Direction.OUTBOUND, by, at, answer_id)
