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
worker through ``on_late_answer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import Error as JetStreamError

from redline.errors import TransportError

log = logging.getLogger(__name__)
STREAM = "REDLINE"
MAX_AGE_SECONDS = 7 * 24 * 3600
ANSWER_WAIT = 5.0
FROM, CORRELATION = "Redline-From", "Redline-Correlation"

BatchHandler = Callable[[str, bytes], Awaitable[bytes]]
AnswerHandler = Callable[[str, bytes], Awaitable[None]]


def station_fingerprint(signing_key: str) -> str:
    return hashlib.sha256(signing_key.encode("ascii")).hexdigest()[:20]


class NatsRelay:
    """One connection to one relay server, for sending, receiving, or both."""

    def __init__(self, url: str, me_id: str, my_fingerprint: str) -> None:
        self.url = url
        self._me_id = me_id
        self._fp = my_fingerprint
        self._nc: Any = None
        self._js: Any = None
        self._connect_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_late_answer: AnswerHandler | None = None

    async def _connect(self) -> Any:
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
                    f"relay {self.url}: cannot connect ({type(exc).__name__}: {exc})"
                ) from None
            self._js = js
            self._consume(f"redline.v1.{self._fp}.answers", f"rl-{self._fp}-answers", self._take_answer)
            return js

    async def _drop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = self._js = None

    def _consume(self, subject: str, durable: str, handle: Callable[[Any], Awaitable[None]]) -> None:
        async def loop() -> None:
            sub = await self._js.pull_subscribe(
                subject, durable=durable, stream=STREAM, config=ConsumerConfig(ack_wait=30)
            )
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

        task = asyncio.get_running_loop().create_task(loop())
        self._tasks.add(task)

    async def serve_inbox(self, handle_batch: BatchHandler) -> None:
        """Take batches addressed to this station from the relay and answer each."""
        await self._connect()

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

        self._consume(f"redline.v1.{self._fp}.in", f"rl-{self._fp}-in", take_batch)

    async def _take_answer(self, msg: Any) -> None:
        headers = msg.headers or {}
        waiting = self._waiting.pop(headers.get(CORRELATION, ""), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(msg.data)
        elif self.on_late_answer is not None and headers.get(FROM):
            await self.on_late_answer(headers[FROM], msg.data)

    async def deliver(self, peer_fingerprint: str, body: bytes) -> bytes:
        js = await self._connect()
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
            raise TransportError(f"relay {self.url}: publish failed ({type(exc).__name__}: {exc})") from None
        try:
            return await asyncio.wait_for(answer, ANSWER_WAIT)
        except TimeoutError:
            self._waiting.pop(correlation, None)
            raise TransportError(
                f"relay {self.url}: batch stored at the relay, no answer within {ANSWER_WAIT:.0f} s"
            ) from None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._drop()
