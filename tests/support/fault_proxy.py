"""A fault-injecting HTTP proxy for the link: delays, duplicates, reorders and refuses whole requests.

The link is mutual TLS with certificates pinned both ways, so a byte-level proxy could
drop or delay bytes but never replay a request. This one (test-only) holds both
stations' TLS keys: it terminates the sender's TLS with the *receiver's* certificate
and key, reads each ``POST /link/v1/envelopes`` whole, and re-originates it to the
receiver's link with the *sender's* certificate, so the receiver still maps the request
to the sender by its certificate. The sender reaches the proxy because the receiver's
contact card advertises the proxy's URL as its endpoint.

Per request, drawn from a seeded random generator (see :class:`Faults`):

* ``delay``     -- wait, then forward;
* ``duplicate`` -- forward it twice (one after the other, or both at once) and answer
  with one of the two answers;
* ``hold``      -- answer 502 at once and forward it later, after the sender has retried
  (and usually after newer requests have gone through): a reordered, late duplicate;
* ``reject``    -- answer 502 without forwarding;
* ``lose``      -- forward it, then answer 502: the receipt is lost on the way back;
* otherwise pass it through.

Every decision is counted in :attr:`FaultProxy.stats`, and every answer the receiver
gave (forwarded or held) in :attr:`FaultProxy.upstream_status`, so a test can prove the
faults happened and that the receiver never refused a batch.

The proxy runs in-process on its own event loop in a daemon thread, optionally inside a
network namespace (it then listens on and connects to that namespace's addresses).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h11
import httpx

from redline.crypto.tls import client_context, server_context
from tests.support.netns import LoopThread

MAX_BODY = 17 * 1024 * 1024


@dataclass(frozen=True)
class Faults:
    """Probabilities per request (the rest passes through) and the timing of delays and holds."""

    delay: float = 0.0
    duplicate: float = 0.0
    hold: float = 0.0
    reject: float = 0.0
    lose: float = 0.0
    delay_s: tuple[float, float] = (0.05, 0.5)
    hold_s: tuple[float, float] = (0.5, 2.5)

    def pick(self, rng: random.Random) -> str:
        x = rng.random()
        for mode in ("delay", "duplicate", "hold", "reject", "lose"):
            p = float(getattr(self, mode))
            if x < p:
                return mode
            x -= p
        return "pass"


NO_FAULTS = Faults()


@dataclass(frozen=True)
class _Request:
    method: str
    target: str
    content_type: str
    body: bytes


class FaultProxy:
    """``https://listen_host:listen_port`` in front of ``upstream`` (a receiver's link base URL).

    ``receiver_dir`` and ``sender_dir`` are the two stations' data directories: the proxy
    serves with the receiver's ``keys/tls.crt``/``tls.key`` (trusting only the sender's
    certificate) and connects upstream with the sender's (pinning the receiver's).
    """

    def __init__(
        self,
        *,
        listen_host: str,
        listen_port: int,
        upstream: str,
        receiver_dir: Path,
        sender_dir: Path,
        faults: Faults,
        seed: int = 1,
        netns: str | None = None,
        name: str = "proxy",
    ) -> None:
        self.listen = (listen_host, listen_port)
        self.upstream = upstream.rstrip("/")
        self.name = name
        self.faults = faults
        self.stats: collections.Counter[str] = collections.Counter()
        self.upstream_status: collections.Counter[int | str] = collections.Counter()
        self._rng = random.Random(seed)
        r_cert, r_key = receiver_dir / "keys" / "tls.crt", receiver_dir / "keys" / "tls.key"
        s_cert, s_key = sender_dir / "keys" / "tls.crt", sender_dir / "keys" / "tls.key"
        self._server_ctx: ssl.SSLContext = server_context(str(r_cert), str(r_key), [s_cert.read_text()])
        self._client_ctx: ssl.SSLContext = client_context(str(s_cert), str(s_key), r_cert.read_text())
        self._loop = LoopThread(f"{name}-loop", netns)
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._connections: set[asyncio.Task[Any]] = set()
        self._forwarded = 0  # requests sent upstream so far: tells whether a held one was overtaken

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._loop.start()
        self._loop.run(self._start())
        return self

    async def _start(self) -> None:
        self._client = httpx.AsyncClient(
            verify=self._client_ctx,
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )
        self._server = await asyncio.start_server(
            self._serve_connection, self.listen[0], self.listen[1], ssl=self._server_ctx
        )

    def set_faults(self, faults: Faults) -> None:
        """Change the fault mix from the test thread (e.g. ``NO_FAULTS`` to let the link settle)."""
        self._loop.call(lambda: setattr(self, "faults", faults))

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Until every held request has been forwarded."""

        async def idle() -> None:
            while self._tasks:
                await asyncio.wait(set(self._tasks), timeout=timeout)

        self._loop.run(asyncio.wait_for(idle(), timeout), timeout=timeout + 5)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.run(self._stop(), timeout=10)
        self._loop.stop()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.close()
        for t in [*self._tasks, *self._connections]:
            t.cancel()
        await asyncio.gather(*self._tasks, *self._connections, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    # -- serving ------------------------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        me = asyncio.current_task()
        if me is not None:
            self._connections.add(me)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                request = await self._read_request(conn, reader)
                if request is None:
                    return
                status, ctype, body = await self._handle(request)
                headers = [("content-type", ctype), ("content-length", str(len(body)))]
                data = conn.send(h11.Response(status_code=status, headers=headers))
                data += conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
                writer.write(data)
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (OSError, ssl.SSLError, h11.ProtocolError, asyncio.IncompleteReadError):
            self.stats["client_connection_errors"] += 1
        finally:
            self._writers.discard(writer)
            if me is not None:
                self._connections.discard(me)
            writer.close()

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader) -> _Request | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)  # b"" marks the end of the stream
                continue
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY:
                    raise h11.LocalProtocolError("request body too large for the proxy")
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                ctype = dict(head.headers).get(b"content-type", b"application/json").decode("latin-1")
                return _Request(head.method.decode(), head.target.decode(), ctype, bytes(body))

    async def _forward(self, request: _Request) -> tuple[int, str, bytes]:
        assert self._client is not None
        self._forwarded += 1
        try:
            response = await self._client.request(
                request.method,
                self.upstream + request.target,
                content=request.body,
                headers={"content-type": request.content_type},
            )
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            self.stats["upstream_errors"] += 1
            self.upstream_status[type(exc).__name__] += 1
            return 502, "application/json", b'{"error": {"code": "proxy", "message": "upstream failed"}}'
        self.upstream_status[response.status_code] += 1
        ctype = response.headers.get("content-type", "application/json")
        return response.status_code, ctype, response.content

    async def _handle(self, request: _Request) -> tuple[int, str, bytes]:
        self.stats["requests"] += 1
        if request.method != "POST":
            return await self._forward(request)
        mode = self.faults.pick(self._rng)
        self.stats[mode] += 1
        if mode == "delay":
            await asyncio.sleep(self._rng.uniform(*self.faults.delay_s))  # the injected fault: a slow request
            return await self._forward(request)
        if mode == "duplicate":
            if self._rng.random() < 0.5:
                first = await self._forward(request)
                second = await self._forward(request)
                self.stats["duplicated_in_sequence"] += 1
            else:
                first, second = await asyncio.gather(self._forward(request), self._forward(request))
                self.stats["duplicated_at_once"] += 1
            self.stats["duplicates_sent"] += 1
            return second if self._rng.random() < 0.5 else first
        if mode == "hold":
            task = asyncio.get_running_loop().create_task(self._release_later(request, self._forwarded))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return _bad_gateway("held")
        if mode == "reject":
            return _bad_gateway("rejected")
        answer = await self._forward(request)
        if mode == "lose":
            return _bad_gateway("answer lost")
        return answer

    async def _release_later(self, request: _Request, forwarded_at_hold: int) -> None:
        await asyncio.sleep(self._rng.uniform(*self.faults.hold_s))  # the fault: held back, then reordered
        if self._forwarded > forwarded_at_hold:
            self.stats["reordered"] += 1  # newer requests went to the receiver before this one
        self.stats["held_released"] += 1
        await self._forward(request)


def _bad_gateway(why: str) -> tuple[int, str, bytes]:
    body = f'{{"error": {{"code": "proxy", "message": "{why} by the fault proxy"}}}}'
    return 502, "application/json", body.encode()
