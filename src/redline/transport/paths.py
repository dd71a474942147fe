"""What one path to a peer is: the one-method interface each URL scheme implements, and its state.

A peer's card lists its endpoints (``https://HOST:PORT``, ``nats://HOST:PORT``)
in order of preference; each is a *path*. A :class:`PathTransport` carries one
request body over one path and returns the answer body; which transport
carries a URL is decided by its scheme in a :class:`~redline.transport.mounts.Mounts`
table, the way httpx's ``mounts`` choose a transport per URL pattern.

A path transport raises ``TransportError`` when the path failed (refused, TLS
error, timeout, 5xx, relay unreachable) and ``RemoteProtocolError`` when the
peer answered with a refusal: the path works, the batch does not. Errors of the
library a transport uses (httpx, nats) are translated inside it and never leak
upward.

:class:`PathState` is the health of one path as the failover above the
transports sees it (``failover.py``): a path that fails is held down for
``HOLD_DOWN_FIRST`` seconds, doubling while it keeps failing up to
``HOLD_DOWN_MAX``. Times are seconds on the injected clock's ``monotonic()``.

A transport whose scheme can also carry batches *to* this station (a relay the
station lists in its own card) implements :class:`StoreAndForward` besides:
it hands out an :class:`Inbox` per own endpoint, and routes answers that arrive
after their sender stopped waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from redline.domain.stations import PeerRecord

HOLD_DOWN_FIRST = 2.0
HOLD_DOWN_MAX = 30.0

BatchHandler = Callable[[str, bytes], Awaitable[bytes]]
"""Takes (sender station id, request body) of a batch that came to this station; returns the answer."""
AnswerHandler = Callable[[str, bytes], Awaitable[None]]
"""Takes (peer station id, answer body) of an answer that came after its delivery gave up waiting."""
Spawner = Callable[[Coroutine[Any, Any, None], str], None]
"""Starts (work, what it is) in the station's task group: a transport never starts a task of its own."""


class PathTransport(Protocol):
    """Carries one request body over one path (a URL from the peer's card) and returns the answer."""

    async def send(self, peer: PeerRecord, url: str, body: bytes) -> bytes: ...
    async def close(self) -> None: ...


class Inbox(Protocol):
    """Batches addressed to this station arriving by some path other than its own HTTP server."""

    url: str

    async def run(self, handle_batch: BatchHandler) -> None:
        """Take batches and answer each with ``handle_batch``, until cancelled (retrying while away)."""
        ...


@runtime_checkable
class StoreAndForward(Protocol):
    """A path transport through a relay, which also carries batches to this station."""

    def inbox(self, url: str) -> Inbox: ...
    def route_late_answers(self, handler: AnswerHandler, spawn: Spawner) -> None:
        """Send late answers to ``handler``; run the relay's answer consumers with ``spawn``."""
        ...


@dataclass(slots=True)
class PathState:
    url: str
    state: str = "unknown"  # up, down
    failures: int = 0
    held_until: float = 0.0
    last_ok: float | None = None
    last_error: str | None = None  # while the path fails; a success clears it
    changed_at: float | None = None
    error_at: float | None = None  # when last_error happened

    def succeeded(self, now: float) -> None:
        if self.state != "up":
            self.changed_at = now
        self.state, self.failures, self.held_until, self.last_ok = "up", 0, 0.0, now
        self.last_error = self.error_at = None

    def failed(self, now: float, error: str) -> None:
        if self.state != "down":
            self.changed_at = now
        self.failures += 1
        self.state = "down"
        self.erred(now, error)
        self.held_until = now + min(HOLD_DOWN_MAX, HOLD_DOWN_FIRST * 2 ** (self.failures - 1))

    def erred(self, now: float, error: str) -> None:
        """Record an error without counting a failure (a retry inside the hold-down)."""
        self.last_error, self.error_at = error, now

    def view(self, now: float) -> dict[str, Any]:
        """The path as ``GET /api/v1/links`` shows it."""

        def ago(moment: float | None) -> float | None:
            return None if moment is None else round(now - moment, 3)

        return {
            "url": self.url,
            "state": self.state,
            "consecutive_failures": self.failures,
            "seconds_since_ok": ago(self.last_ok),
            "seconds_since_change": ago(self.changed_at),
            "last_error": self.last_error,
            "seconds_since_error": ago(self.error_at),
            "held_down_for_s": round(max(0.0, self.held_until - now), 3),
        }
