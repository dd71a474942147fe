"""The stored row of one envelope, built in one place for both directions.

Its initial delivery state comes from :mod:`redline.domain.delivery`: an outbound
envelope enters the outbox ``queued``, an inbound one is ``delivered`` the moment it
is stored (and receipted). :func:`as_row` turns the record into the column mapping
the store takes today; it goes away when the store takes records.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from redline.domain.delivery import DeliveryEvent, initial_state
from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.domain.threads import expects_reply, reply_target
from redline.wire.envelope import Envelope

_FIRST_EVENT = {Direction.OUTBOUND: DeliveryEvent.COMMITTED, Direction.INBOUND: DeliveryEvent.STORED}
_COLUMNS = tuple(f.name for f in dataclasses.fields(MessageRecord))


def message_record(
    env: Envelope,
    direction: Direction,
    body: dict[str, Any],
    *,
    stored_at: str,
    deadline: str | None,
    answers: str | None,
    created_by: str | None = None,
    receipt_id: str | None = None,
    encoded: str | None = None,
) -> MessageRecord:
    """The row for ``env``; ``encoded`` saves encoding it again when the caller already has."""
    inbound = direction is Direction.INBOUND
    return MessageRecord(
        id=env.id,
        direction=direction,
        peer_id=env.sender if inbound else env.recipient,
        seq=env.seq,
        kind=env.kind,
        precedence=env.precedence,
        ts=env.ts,
        body=json.dumps(body, ensure_ascii=False),
        envelope=encoded if encoded is not None else env.encode().decode("utf-8"),
        digest=env.digest,
        state=initial_state(direction, _FIRST_EVENT[direction]),
        deadline=deadline,
        created_by=created_by,
        stored_at=stored_at,
        sent_at=None,
        delivered_at=stored_at if inbound else None,
        receipt_id=receipt_id,
        ack_of=answers,
        acked_at=None,
        acked_by=None,
        ack_message_id=None,
        in_reply_to=reply_target(env.kind, body),
        expects_reply=expects_reply(env.kind, body),
    )
