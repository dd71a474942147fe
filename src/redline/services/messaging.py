"""What an operator does with messages: send, acknowledge, read."""

from __future__ import annotations

from typing import Any

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.messages import Direction, MessageKind, Precedence, TextBody
from redline.domain.names import check_message_id
from redline.domain.phrases import PhraseBody
from redline.domain.records import MessageRecord
from redline.domain.stations import OperatorRecord
from redline.domain.threads import (
    ANSWERABLE_KINDS,
    IN_REPLY_TO,
    phrase_answers,
    resolve_phrase_reply,
    with_reply,
)
from redline.errors import Conflict, InputError, NotFound, _t
from redline.services.kinds import ack
from redline.services.kinds.base import OutboundDraft
from redline.services.metrics import StationMetrics
from redline.services.outbox import Outbox
from redline.services.peers import PeerDirectory
from redline.services.ports import StationStore


class MessagingService:
    def __init__(
        self,
        store: StationStore,
        outbox: Outbox,
        peers: PeerDirectory,
        clock: Clock = SYSTEM_CLOCK,
        *,
        metrics: StationMetrics | None = None,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._peers = peers
        self._clock = clock
        self._metrics = metrics

    async def send_text(
        self,
        operator: OperatorRecord,
        to: object,
        precedence: object,
        text: object,
        lang: object,
        in_reply_to: object = None,
    ) -> str:
        self._check_sender(operator, to)
        prec = Precedence.parse(precedence)
        body = TextBody.parse(text, lang).to_json()
        answers = None if in_reply_to is None else check_message_id(in_reply_to, IN_REPLY_TO)
        return await self._submit(operator, to, MessageKind.TEXT, prec, body, answers)

    async def send_phrase(
        self,
        operator: OperatorRecord,
        to: object,
        precedence: object,
        code: object,
        params: object,
        in_reply_to: object = None,
    ) -> str:
        """Send a standard phrase: its code, checked parameters and our catalogue version; a reply
        phrase naming a message (``params.message``) answers that message."""
        self._check_sender(operator, to)
        prec = Precedence.parse(precedence)
        if not isinstance(code, str):
            raise InputError(_t("code: {code!r} is not a phrase code", code=code))
        body = PhraseBody.build(code, params).to_json()
        given = None if in_reply_to is None else check_message_id(in_reply_to, IN_REPLY_TO)
        answers = resolve_phrase_reply(code, body["params"], given)
        return await self._submit(operator, to, MessageKind.PHRASE, prec, body, answers)

    @staticmethod
    def _check_sender(operator: OperatorRecord, to: object) -> None:
        operator.role.require_send("send messages")
        if not isinstance(to, str):
            raise NotFound(_t("to: {to!r} is not a peer of this station", to=to))

    async def _submit(
        self,
        operator: OperatorRecord,
        to: object,
        kind: MessageKind,
        precedence: Precedence,
        body: dict[str, Any],
        in_reply_to: str | None = None,
    ) -> str:
        peer = await self._peers.recipient(str(to))
        if in_reply_to is not None:
            await self._check_answerable(peer.station_id, in_reply_to)
            if phrase_answers(body.get("code"), body.get("params")) != in_reply_to:
                body = with_reply(body, in_reply_to)  # a REP naming the message answers it already
        draft = OutboundDraft(
            peer=peer, kind=kind, precedence=precedence, body=body, created_by=operator.name
        )
        return await self._outbox.submit(draft)

    async def _check_answerable(self, peer_id: str, message_id: str) -> None:
        target = await self._store.message(message_id)
        if target is None or target.peer_id != peer_id:
            raise InputError(
                _t(
                    "in_reply_to: no message {message_id} on the link with {peer_id}",
                    message_id=message_id,
                    peer_id=peer_id,
                )
            )
        if target.kind not in ANSWERABLE_KINDS:
            raise InputError(
                _t(
                    "in_reply_to: message {message_id} is a {kind} message; replies answer {choices} "
                    "messages",
                    message_id=message_id,
                    kind=target.kind.value,
                    choices=", ".join(k.value for k in ANSWERABLE_KINDS),
                )
            )

    async def acknowledge(self, operator: OperatorRecord, message_id: str) -> str:
        """Acknowledge a received message; returns the id of the acknowledgement sent back."""
        operator.role.require_send("acknowledge messages")
        row = await self.get(message_id)
        if row.direction is not Direction.INBOUND:
            raise Conflict(
                _t(
                    "message {message_id} was sent by this station; only the recipient acknowledges",
                    message_id=message_id,
                )
            )
        if not row.kind.needs_human_ack:
            raise Conflict(
                _t(
                    "message {message_id} is a {kind} message, which needs no acknowledgement",
                    message_id=message_id,
                    kind=row.kind.value,
                )
            )
        if row.acked_at is not None:
            raise Conflict(
                _t(
                    "message {message_id} was already acknowledged by {acked_by} at {acked_at}",
                    message_id=message_id,
                    acked_by=row.acked_by,
                    acked_at=row.acked_at,
                )
            )
        peer = await self._peers.recipient(row.peer_id)
        at = format_ts(self._clock.now())
        draft = ack.acknowledgement(peer, row.precedence, row.id, operator.name, at)
        ack_id = await self._outbox.submit(draft)
        if self._metrics is not None:  # the acknowledgement is committed: time it from the arrival
            waited = (self._clock.now() - parse_ts(row.stored_at, "stored_at")).total_seconds()
            self._metrics.time_to_ack.labels(row.precedence.value, "us").observe(max(0.0, waited))
        return ack_id

    async def get(self, message_id: str) -> MessageRecord:
        row = await self._store.message(check_message_id(message_id))
        if row is None:
            raise NotFound(_t("no message {message_id}", message_id=message_id))
        return row
