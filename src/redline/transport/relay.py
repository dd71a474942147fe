"""A store-and-forward relay path through NATS JetStream.

A station that lists ``nats://HOST:PORT`` among its endpoints takes batches
from the relay as well as over HTTPS. A sender whose HTTPS paths fail
publishes the same request body to the relay; JetStream stores it until the
recipient takes it, runs it through the same inbound checks as the link
endpoint, and publishes its answer (the signed receipts) back. The relay sees
only sealed payloads and signed envelopes and receipts: it can delay or drop
them, but neither read nor alter them undetected.

Subjects are keyed by a fingerprint of each station's signing key, so two
deployments that reuse station names on one server never share a queue:
``redline.v1.<fp>.in`` carries batches to a station, ``redline.v1.<fp>.answers``
answers to it. Every batch carries a correlation id; a sender waits briefly
for the answer, and an answer that arrives later still reaches its delivery
worker through the handler given to ``route_late_answers``.

:class:`NatsRelayTransport` is the ``nats`` path transport (one
:class:`NatsRelay` connection per relay URL, shared by sending and receiving).
:class:`RelayInbox` takes batches addressed to this station from one relay; its
``run`` lives in the station's task group and retries every
``INBOX_RETRY_SECONDS`` on the injected clock while the relay is away. The
consumer of answers to this station's own deliveries is started with the
connection and belongs to the relay connection (stopped by ``close``).
Errors of nats-py are translated into ``TransportError`` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import Error as JetStreamError

from redline.domain.clock import SYSTEM_CLOCK, Clock
from redline.domain.stations import PeerRecord
from redline.errors import RemoteProtocolError, TransportError, _t
from redline.json_input import parse_json
from redline.transport.paths import AnswerHandler, BatchHandler, Spawner

log = logging.getLogger(__name__)
STREAM = "REDLINE"
MAX_AGE_SECONDS = 7 * 24 * 3600
ANSWER_WAIT = 5.0
INBOX_RETRY_SECONDS = 5.0
FROM, CORRELATION = "Redline-From", "Redline-Correlation"


def station_fingerprint(signing_key: str) -> str:
    return hashlib.sha256(signing_key.encode("ascii")).hexdigest()[:20]


class NatsRelay:
    """One connection to one relay server, for sending, receiving, or both."""

    def __init__(self, url: str, me_id: str, my_fingerprint: str, spawn: Spawner) -> None:
        self.url = url
        self._spawn = spawn
        self._me_id = me_id
        self._fp = my_fingerprint
        self._nc: Any = None
        self._js: Any = None
        self._connect_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future[bytes]] = {}
        self.on_late_answer: AnswerHandler | None = None

    async def connect(self) -> Any:
        """The JetStream context, connecting (and creating the stream) the first time."""
        async with self._connect_lock:
            if self._js is not None:
                return self._js
            try:
                self._nc = await nats.connect(
                    self.url,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    allow_reconnect=True,
                )
                js = self._nc.jetstream()
                try:
                    await js.stream_info(STREAM)
                except JetStreamError:
                    await js.add_stream(
                        StreamConfig(name=STREAM, subjects=["redline.v1.>"], max_age=MAX_AGE_SECONDS)
                    )
            except (NatsError, JetStreamError, OSError) as exc:
                await self._drop()
                raise TransportError(
                    _t(
                        "relay {url}: cannot connect ({error}: {exc})",
                        url=self.url,
                        error=type(exc).__name__,
                        exc=str(exc),
                    )
                ) from None
            self._js = js
            answers = self._consume(
                f"redline.v1.{self._fp}.answers", f"rl-{self._fp}-answers", self._take_answer
            )
            # The consumer of answers lives in the station's task group, which ends it.
            self._spawn(_logged(answers, f"relay {self.url}: answers"), f"answers from relay {self.url}")
            return js

    async def _drop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = self._js = None

    async def _consume(self, subject: str, durable: str, handle: Callable[[Any], Awaitable[None]]) -> None:
        """Take messages on ``subject`` and hand each to ``handle``, until cancelled."""
        try:
            sub = await self._js.pull_subscribe(
                subject, durable=durable, stream=STREAM, config=ConsumerConfig(ack_wait=30)
            )
        except (NatsError, JetStreamError, TimeoutError, AttributeError) as exc:  # Attribute: dropped
            raise TransportError(
                _t(
                    "relay {url}: cannot subscribe ({error}: {exc})",
                    url=self.url,
                    error=type(exc).__name__,
                    exc=str(exc),
                )
            ) from None
        while True:
            try:
                messages = await sub.fetch(batch=16, timeout=1)
            except (TimeoutError, NatsError):
                continue
            for msg in messages:
                try:
                    await handle(msg)
                except Exception:
                    log.exception("relay %s: handling a message on %s failed", self.url, subject)
                await msg.ack()

    async def serve_inbox(self, handle_batch: BatchHandler) -> None:
        """Take batches addressed to this station from the relay and answer each, until cancelled."""
        await self.connect()

        async def take_batch(msg: Any) -> None:
            headers = msg.headers or {}
            sender, correlation = headers.get(FROM), headers.get(CORRELATION)
            answer_to = headers.get("Redline-Answer-To")
            if not sender or not correlation or not answer_to:
                log.warning(
                    "relay %s: dropped a message without sender, correlation or answer subject", self.url
                )
                return
            answer = await handle_batch(sender, msg.data)
            await self._js.publish(
                answer_to, answer, headers={FROM: self._me_id, CORRELATION: correlation}, stream=STREAM
            )

        log.info("taking batches from relay %s", self.url)
        await self._consume(f"redline.v1.{self._fp}.in", f"rl-{self._fp}-in", take_batch)

    async def _take_answer(self, msg: Any) -> None:
        headers = msg.headers or {}
        waiting = self._waiting.pop(headers.get(CORRELATION, ""), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(msg.data)
        elif self.on_late_answer is not None and headers.get(FROM):
            await self.on_late_answer(headers[FROM], msg.data)

    async def deliver(self, peer_fingerprint: str, body: bytes) -> bytes:
        js = await self.connect()
        correlation = uuid.uuid4().hex
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[correlation] = answer
        headers = {
            FROM: self._me_id,
            CORRELATION: correlation,
            "Redline-Answer-To": f"redline.v1.{self._fp}.answers",
        }
        try:
            await js.publish(f"redline.v1.{peer_fingerprint}.in", body, headers=headers, stream=STREAM)
        except (NatsError, JetStreamError) as exc:
            self._waiting.pop(correlation, None)
            raise TransportError(
                _t(
                    "relay {url}: publish failed ({error}: {exc})",
                    url=self.url,
                    error=type(exc).__name__,
                    exc=str(exc),
                )
            ) from None
        try:
            return await asyncio.wait_for(answer, ANSWER_WAIT)
        except TimeoutError:
            self._waiting.pop(correlation, None)
            raise TransportError(
                _t(
                    "relay {url}: batch stored at the relay, no answer within {ANSWER_WAIT:.0f} s",
                    url=self.url,
                    ANSWER_WAIT=ANSWER_WAIT,
                )
            ) from None

    async def close(self) -> None:
        await self._drop()


class RelayInbox:
    """Batches addressed to this station, taken from one relay it lists in its card."""

    def __init__(self, relay: NatsRelay, clock: Clock = SYSTEM_CLOCK) -> None:
        self.url = relay.url
        self._relay = relay
        self._clock = clock

    async def run(self, handle_batch: BatchHandler) -> None:
        """Serve until cancelled; while the relay is away, try again every ``INBOX_RETRY_SECONDS``."""
        while True:
            try:
                await self._relay.serve_inbox(handle_batch)
            except TransportError as exc:
                log.warning("%s; retrying in %.0f s", exc.message, INBOX_RETRY_SECONDS)
            except Exception:
                # The inbox lives in the station's task group: a fault here must not stop the station.
                log.exception("relay %s: the inbox failed; retrying in %.0f s", self.url, INBOX_RETRY_SECONDS)
            await self._clock.sleep(INBOX_RETRY_SECONDS)


class NatsRelayTransport:
    """The ``nats`` path transport: store-and-forward through the relays named in peers' cards."""

    def __init__(self, me_id: str, my_fingerprint: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self._me_id, self._fp = me_id, my_fingerprint
        self._clock = clock
        self._relays: dict[str, NatsRelay] = {}
        self._on_late_answer: AnswerHandler | None = None
        self._spawner: Spawner | None = None

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        if self._spawner is None:
            work.close()
            raise TransportError(
                _t("{what}: the relay transport is not wired to a running station", what=what)
            )
        self._spawner(work, what)

    def _relay(self, url: str) -> NatsRelay:
        if url not in self._relays:
            self._relays[url] = NatsRelay(url, self._me_id, self._fp, self._spawn)
            self._relays[url].on_late_answer = self._late_answer
        return self._relays[url]

    async def _late_answer(self, peer_id: str, answer: bytes) -> None:
        if self._on_late_answer is not None:
            await self._on_late_answer(peer_id, answer)

    def route_late_answers(self, handler: AnswerHandler, spawn: Spawner) -> None:
        self._on_late_answer, self._spawner = handler, spawn

    def inbox(self, url: str) -> RelayInbox:
        return RelayInbox(self._relay(url), self._clock)

    async def send(self, peer: PeerRecord, url: str, body: bytes) -> bytes:
        answer = await self._relay(url).deliver(station_fingerprint(peer.signing_key), body)
        refusal = _relay_refusal(answer)
        if refusal:
            raise RemoteProtocolError(
                _t(
                    "{station_id} refused the batch (via relay): {refusal}",
                    station_id=peer.station_id,
                    refusal=refusal,
                )
            )
        return answer

    async def close(self) -> None:
        for relay in self._relays.values():
            await relay.close()
        self._relays.clear()


def _relay_refusal(answer: bytes) -> str | None:
    try:
        error = parse_json(answer, "answer", TransportError).get("error")
    except (TransportError, AttributeError):
        return "the answer is not JSON"
    return f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else None


async def _logged(work: Awaitable[None], what: str) -> None:
    try:
        await work
    except TransportError as exc:
        log.warning("%s stopped: %s", what, exc.message)
