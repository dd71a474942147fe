"""Delivery over HTTPS with mutual TLS, pinned to the peer's card, on keep-alive connections.

A peer's card lists its endpoints in order of preference; each is a *path*
with its own state. A delivery goes to the most preferred path that is not
held down; a path that fails (refused, TLS error, timeout, 5xx) is held down
for a while (2 s, doubling to 30 s while it keeps failing) and the next path
is tried at once: that is failover. When the hold-down of a more preferred
path expires, the next delivery tries it first again: that is failback. A
``nats://`` endpoint is a store-and-forward relay path (``relay.py``).
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx

from redline.crypto.tls import client_context
from redline.domain.stations import PeerRecord
from redline.errors import RemoteProtocolError, TransportError
from redline.transport.relay import AnswerHandler, NatsRelay, station_fingerprint

LINK_PATH = "/link/v1/envelopes"
HOLD_DOWN_FIRST = 2.0
HOLD_DOWN_MAX = 30.0


@dataclass(slots=True)
class PathState:
    url: str
    state: str = "unknown"  # up, down
    failures: int = 0
    held_until: float = 0.0
    last_ok: float | None = None
    last_error: str | None = None
    changed_at: float | None = None

    def succeeded(self, now: float) -> None:
        if self.state != "up":
            self.changed_at = now
        self.state, self.failures, self.held_until, self.last_ok = "up", 0, 0.0, now

    def failed(self, now: float, error: str) -> None:
        if self.state != "down":
            self.changed_at = now
        self.failures += 1
        self.state, self.last_error = "down", error
        self.held_until = now + min(HOLD_DOWN_MAX, HOLD_DOWN_FIRST * 2 ** (self.failures - 1))

    def view(self, now: float) -> dict[str, Any]:
        def ago(moment: float | None) -> float | None:
            return None if moment is None else round(now - moment, 3)

        return {
            "url": self.url,
            "state": self.state,
            "consecutive_failures": self.failures,
            "seconds_since_ok": ago(self.last_ok),
            "seconds_since_change": ago(self.changed_at),
            "last_error": self.last_error,
            "held_down_for_s": round(max(0.0, self.held_until - now), 3),
        }


class HttpsLinkTransport:
    """One httpx client per peer certificate; paths tried by preference with failover and failback."""

    def __init__(
        self, cert_file: str, key_file: str, me_id: str, my_fingerprint: str, timeout: float = 10.0
    ) -> None:
        self._cert_file, self._key_file = cert_file, key_file
        self._me_id, self._fp = me_id, my_fingerprint
        self._timeout = timeout
        self._relays: dict[str, NatsRelay] = {}
        self.on_late_answer: AnswerHandler | None = None
        self._clients: dict[tuple[str, str], httpx.AsyncClient] = {}
        self._paths: dict[str, list[PathState]] = {}

    def _client(self, peer: PeerRecord) -> httpx.AsyncClient:
        key = (peer.station_id, peer.tls_fingerprint)
        if key not in self._clients:
            ctx = client_context(self._cert_file, self._key_file, peer.tls_certificate)
            self._clients[key] = httpx.AsyncClient(
                verify=ctx,
                timeout=httpx.Timeout(self._timeout, connect=3.0),
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            )
        return self._clients[key]

    def relay(self, url: str) -> NatsRelay:
        if url not in self._relays:
            self._relays[url] = NatsRelay(url, self._me_id, self._fp)
            self._relays[url].on_late_answer = self._late_answer
        return self._relays[url]

    async def _late_answer(self, peer_id: str, answer: bytes) -> None:
        if self.on_late_answer is not None:
            await self.on_late_answer(peer_id, answer)

    async def _post(self, peer: PeerRecord, url: str, body: bytes) -> bytes:
        """One attempt on one path; TransportError if the path failed, the answer body otherwise."""
        if url.startswith("nats://"):
            answer = await self.relay(url).deliver(station_fingerprint(peer.signing_key), body)
            refusal = _relay_refusal(answer)
            if refusal:
                raise RemoteProtocolError(f"{peer.station_id} refused the batch (via relay): {refusal}")
            return answer
        client = self._client(peer)
        try:
            response = await client.post(
                url + LINK_PATH, content=body, headers={"content-type": "application/json"}
            )
        except (httpx.TransportError, ssl.SSLError, OSError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 500:
            raise TransportError(f"HTTP {response.status_code}")
        if response.status_code in (200, 409):
            return response.content
        raise RemoteProtocolError(
            f"{peer.station_id} refused the batch: HTTP {response.status_code} {_error(response)}"
        )

    def paths(self, peer: PeerRecord) -> list[PathState]:
        known = self._paths.get(peer.station_id)
        if known is None or [p.url for p in known] != list(peer.endpoints):
            known = [PathState(url) for url in peer.endpoints]
            self._paths[peer.station_id] = known
        return known

    def avoid_current_path(self, peer: PeerRecord) -> None:
        """Send the next request over another path, if there is one (the current one may work
        for the machines and still fail the people: an escalation tries another way)."""
        now = time.monotonic()
        usable = [p for p in self.paths(peer) if p.held_until <= now]
        if len(usable) > 1:
            usable[0].held_until = now + HOLD_DOWN_FIRST

    def path_status(self, peer: PeerRecord) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [p.view(now) for p in self.paths(peer)]

    async def deliver(self, peer: PeerRecord, body: bytes) -> bytes:
        paths = self.paths(peer)
        now = time.monotonic()
        order = [p for p in paths if p.held_until <= now] or sorted(paths, key=lambda p: p.held_until)
        failures: list[str] = []
        for path in order:
            held = path.held_until > now  # tried only because every path is held down
            try:
                answer = await self._post(peer, path.url, body)
            except TransportError as exc:
                if held:
                    path.last_error = exc.message  # a retry inside the hold-down does not lengthen it
                else:
                    path.failed(time.monotonic(), exc.message)
                failures.append(f"{path.url}: {exc.message}")
                continue
            except RemoteProtocolError:
                path.succeeded(time.monotonic())  # the path works; the peer refused
                raise
            path.succeeded(time.monotonic())
            return answer
        raise TransportError(f"no path to {peer.station_id} answered: {'; '.join(failures)}")

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        for relay in self._relays.values():
            await relay.close()
        self._relays.clear()


def _relay_refusal(answer: bytes) -> str | None:
    try:
        error = json.loads(answer).get("error")
    except (ValueError, AttributeError):
        return "the answer is not JSON"
    return f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else None


def _error(response: httpx.Response) -> str:
    try:
        return str(json.loads(response.content)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
