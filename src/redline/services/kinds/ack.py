"""Acknowledgements: a person here confirms a received message; the sender learns who and when.

:func:`acknowledgement` is the command's draft: its body names the message, the person
and the time. The sender effect marks that inbound message acknowledged, once, in the
outbox commit (a second acknowledgement is refused); the receiver marks its own
outbound message acknowledged with the peer's person and time.
"""

from __future__ import annotations

from redline.domain.messages import AckBody, Direction, MessageKind, Precedence
from redline.domain.payloads import check_ack
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, _t
from redline.services.kinds.answers import check_answerable, mark_peer_answered
from redline.services.kinds.base import Body, KindSpec, OutboundDraft, Reactions, Received, Sending
from redline.services.ports import WriteTransaction


def acknowledgement(
    peer: PeerRecord, precedence: Precedence, message_id: str, by: str, at: str
) -> OutboundDraft:
    """The draft acknowledging ``message_id`` (received from ``peer``) as person ``by`` at ``at``."""
    body = AckBody(ack_of=message_id, by=by, at=at).to_json()
    return OutboundDraft(peer=peer, kind=MessageKind.ACK, precedence=precedence, body=body, created_by=by)


class AckKind(KindSpec):
    kind = MessageKind.ACK

    def check(self, body: Body) -> Body:
        return check_ack(body)

    def answers(self, body: Body) -> str | None:
        return str(body["ack_of"])

    async def on_send(self, sending: Sending) -> None:
        body = sending.draft.body
        target_id = str(body["ack_of"])
        target = await sending.tx.message(target_id)
        if target is None or target.direction is not Direction.INBOUND:
            raise Conflict(_t("message {target_id} was not received by this station", target_id=target_id))
        if target.acked_at is not None:
            raise Conflict(_t("message {target_id} is already acknowledged", target_id=target_id))
        check_answerable(target)
        if not await sending.tx.mark_acknowledged(
            target_id, Direction.INBOUND, str(body["by"]), str(body["at"]), sending.message_id
        ):
            raise Conflict(_t("message {target_id} is already acknowledged", target_id=target_id))

    def sent_audit(self, body: Body) -> tuple[str, Body]:
        return "acknowledge", {"acknowledges": body["ack_of"]}

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        body = received.body
        await mark_peer_answered(
            tx,
            received.peer_id,
            str(body["ack_of"]),
            lambda kind: kind.needs_human_ack,
            "message needing acknowledgement",
            f"{received.peer_id}/{body['by']}",
            str(body["at"]),
            received.envelope.id,
        )

    def react(self, reactions: Reactions, received: Received) -> None:
        reactions.acknowledged_by_peer(
            received.peer_id, str(received.body["ack_of"]), str(received.body["at"])
        )

    def api_fields(self, body: Body) -> Body:
        return {"answers": body["ack_of"]}


SPEC = AckKind()
