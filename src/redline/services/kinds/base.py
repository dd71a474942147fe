"""The shape every message kind fills in, the draft it travels as, and the registry type.

A :class:`KindSpec` is a stateless object with hooks; the defaults do nothing, so a
kind module overrides only what its kind does. The outbox calls ``on_send`` for each
draft under the link row's lock, the inbound service calls ``check_from_peer`` before
anything is stored, ``on_accept`` inside the storing transaction and ``react`` after
the commit. Views are pure functions of the decrypted body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from redline.domain.messages import MessageKind, Precedence
from redline.domain.phrases import Presentation
from redline.domain.stations import LinkChains, PeerRecord
from redline.errors import Conflict, _t
from redline.services.ports import WriteTransaction
from redline.wire.envelope import Envelope

Body = dict[str, Any]


@dataclass(slots=True)
class OutboundDraft:
    """A message waiting for the outbox to number, sign, seal and commit it."""

    peer: PeerRecord
    kind: MessageKind
    precedence: Precedence
    body: Body
    created_by: str
    future: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(slots=True)
class Sending:
    """What a sender effect sees: one draft inside the outbox commit, under the link row's lock."""

    tx: WriteTransaction
    draft: OutboundDraft
    chains: LinkChains
    message_id: str  # the id the draft's envelope will carry
    ts: str  # the envelope's timestamp

    @property
    def peer_id(self) -> str:
        return self.chains.peer_id


@dataclass(frozen=True, slots=True)
class Received:
    """An envelope a peer delivered, accepted into the chain (its signature and payload checked)."""

    peer: PeerRecord
    envelope: Envelope
    body: Body
    at: str  # when it was stored here

    @property
    def peer_id(self) -> str:
        return self.peer.station_id


class Reactions(Protocol):
    """What a kind may ask of the running station once a received batch is committed.

    Implemented by the runtime; every method returns at once (work is started in the
    background), so a reaction never holds up the answer to the peer.
    """

    def heard_from(self, peer_id: str) -> None:
        """The peer delivered something, so it is up (the delivery worker cuts its backoff short)."""

    def submit(self, draft: OutboundDraft, what: str) -> None:
        """Queue ``draft`` in the outbox; ``what`` names it in the log if that fails."""

    def link_test_answered(self, peer_id: str, test_id: str, reply_ts: str, arrived: str) -> None:
        """The peer answered our link test ``test_id`` with a reply it stamped ``reply_ts`` (its clock),
        which arrived here at ``arrived`` (ours): the link tester times the round trip and measures
        the peer's clock offset."""

    def notice_from_peer(self, peer_id: str, kind: MessageKind, body: Body) -> None:
        """A peer's notice was stored: check it against ours for conflicts."""

    def acknowledged_by_peer(self, peer_id: str, message_id: str, at: str) -> None:
        """A person at the peer acknowledged our message ``message_id`` at ``at`` (their clock):
        its time to acknowledge is observed (``redline_time_to_ack_seconds{by="peer"}``)."""


@dataclass(frozen=True, slots=True)
class ConsoleFields:
    """The per-kind part of the console's message view (see ``redline.web.console.views``)."""

    text: str | None = None
    lang: str | None = None
    phrase: Presentation | None = None
    service: str | None = None
    conflict: Body | None = None
    reminds: str | None = None  # a reminder: the id of the message awaiting acknowledgement


class KindSpec:
    """One message kind's behaviour. Subclass, set ``kind``, override the hooks it needs."""

    kind: ClassVar[MessageKind]
    needs_human_ack: ClassVar[bool] = False  # a person at the receiving station must acknowledge it
    audited: ClassVar[bool] = True  # sending it writes an audit event (routine machine traffic does not)

    def check(self, body: Body) -> Body:
        """Validate a payload; raises ``InputError`` naming the field."""
        raise NotImplementedError

    def check_from_peer(self, sender: str, body: Body) -> Body:
        """Validate a payload a peer sent (by default the same check as :meth:`check`)."""
        return self.check(body)

    def answers(self, body: Body) -> str | None:
        """The message this one answers, if any (stored as the row's ``ack_of``)."""
        return None

    async def on_send(self, sending: Sending) -> None:
        """Sender effect inside the outbox commit; raise ``Conflict`` to refuse this draft alone."""

    def sent_audit(self, body: Body) -> tuple[str, Body]:
        """The audit action for sending it, and detail beyond message, peer, precedence and kind."""
        return "send", {}

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        """Receiver effect, in the transaction that stores the envelope."""

    def react(self, reactions: Reactions, received: Received) -> None:
        """After the receiving commit: start whatever the station does about it."""

    def api_fields(self, body: Body) -> Body:
        """The per-kind fields of the API's message view."""
        return {}

    def console_fields(self, body: Body, lang: str) -> ConsoleFields:
        """The per-kind part of the console's message view, in the reader's language."""
        return ConsoleFields()


class HumanTraffic(KindSpec):
    """Messages people write and people acknowledge; they do not flow while the link is suspended."""

    needs_human_ack = True

    async def on_send(self, sending: Sending) -> None:
        refuse_if_suspended(sending)


def refuse_if_suspended(sending: Sending) -> None:
    """People's traffic does not flow while the link is suspended."""
    # Checked in on_send, under the link row's lock, so no message slips past a suspension.
    if sending.chains.suspended:
        raise Conflict(
            _t(
                "the link to {peer_id} is suspended {suspended}; only link tests, "
                "acknowledgements and service messages flow until it is resumed",
                peer_id=sending.peer_id,
                suspended=sending.chains.suspended,
            )
        )


class KindRegistry:
    """Every message kind's spec, keyed by kind; each kind registered exactly once."""

    def __init__(self, specs: Iterable[KindSpec]) -> None:
        self._specs: dict[MessageKind, KindSpec] = {}
        for spec in specs:
            if spec.kind in self._specs:
                raise ValueError(_t("message kind {kind!r} is registered twice", kind=spec.kind.value))
            if spec.needs_human_ack is not spec.kind.needs_human_ack:
                raise ValueError(
                    _t(
                        "message kind {kind!r}: needs_human_ack disagrees with the domain",
                        kind=spec.kind.value,
                    )
                )
            self._specs[spec.kind] = spec

    def __getitem__(self, kind: MessageKind) -> KindSpec:
        try:
            return self._specs[kind]
        except KeyError:
            raise LookupError(_t("message kind {kind!r} is not registered", kind=kind.value)) from None

    def __iter__(self) -> Iterator[KindSpec]:
        return iter(self._specs.values())

    def __contains__(self, kind: object) -> bool:
        return kind in self._specs
