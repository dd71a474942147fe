"""Two stations in one process: washington and beijing, paired, on temporary SQLite, on a mock clock.

The fast counterpart of :mod:`tests.support.stations`. Both stations are
initialised and paired with the services ``redline init``, ``peer add``,
``peer verify`` and ``operator add`` use, opened with the same wiring as
``redline serve`` (:meth:`redline.runtime.Station.open`) and run with
:meth:`~redline.runtime.Station.running`, in the test's event loop.

They are joined by the real link path minus the sockets: each station's
transport is a ``FailoverTransport`` (path state, hold-down, failover) whose
``https`` scheme is mounted on a ``MemoryPathTransport``, which hands each
batch to the other station's real link app (``web.app.create_link_app``)
through ``httpx.ASGITransport``, with the sender's certificate where mutual
TLS would put it. So a delivery crosses ``web/link.py`` (certificate to peer,
body limit) and ``services/inbound.py`` exactly as in production, and nothing
listens on a socket. :meth:`InProcessPair.silence` takes both link apps off
the network, as if it died.

Time belongs to the test: both stations share one
:class:`~redline.domain.clock.MockClock`, which starts at the machine's time
and moves only when the test calls ``await pair.clock.advance(seconds)``.
Each station reads it through a :class:`SkewedClock`, so a test can set one
station's wall clock wrong (``pair.skew("beijing", 3600)``) while both still
sleep on the same mock time.
Work that does not wait for time (commits, deliveries, receipts) runs on its
own; :func:`eventually` waits for its outcome without sleeping a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx

from redline.domain.clock import MockClock, utc_now
from redline.domain.stations import OperatorRecord, Role
from redline.runtime import Station, init_station, stored
from redline.services import operators, pairing
from redline.services.station import load_identity
from redline.transport.failover import FailoverTransport
from redline.transport.memory import MemoryPathTransport
from redline.transport.mounts import Mounts
from redline.web.app import create_api_app, create_link_app

T = TypeVar("T")
STATIONS = (("washington", "Washington"), ("beijing", "Beijing"))
QUIET_TEST_INTERVAL = 3600.0
MEMORY_PORTS = (18443, 28443)  # link tests at start-up, then not again unless the test moves the clock


class SkewedClock:
    """A station's view of the shared mock clock: its wall clock off by ``offset`` seconds (a wrong
    clock), its monotonic clock and its sleeps the shared one's."""

    def __init__(self, base: MockClock) -> None:
        self.base = base
        self.offset = 0.0

    def now(self) -> datetime:
        return self.base.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.base.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        return await self.base.wait(event, seconds)


@dataclass
class InProcessPair:
    washington: Station
    beijing: Station
    clock: MockClock
    operators: dict[str, OperatorRecord]  # station id -> its "duty" operator
    links: dict[str, FailoverTransport]  # station id -> the transport it sends over
    network: MemoryPathTransport  # the registry of link apps both transports deliver to
    apps: dict[str, tuple[str, Any]]  # station id -> (its card's endpoint, its link app)
    clocks: dict[str, SkewedClock]  # station id -> its wall clock

    def skew(self, station_id: str, seconds: float) -> None:
        """Set ``station_id``'s wall clock ``seconds`` ahead of the shared one (behind if negative)."""
        self.clocks[station_id].offset = seconds

    def __iter__(self) -> Any:
        return iter((self.washington, self.beijing))

    def duty(self, station: Station) -> OperatorRecord:
        return self.operators[station.me.station_id]

    def silence(self, silent: bool = True) -> None:
        """Cut (or restore) the link both ways, as if the network between the stations died."""
        for url, app in self.apps.values():
            if silent:
                self.network.unregister(url)
            else:
                self.network.register(url, app)

    async def advance_to(self, moment: datetime) -> None:
        """Move the shared clock forward to ``moment`` (no-op if it is there already)."""
        await self.clock.advance(max(0.0, (moment - self.clock.now()).total_seconds()))

    async def advance_until(
        self, check: Callable[[], Awaitable[T]], what: str, step: float = 0.25, limit: float = 120.0
    ) -> tuple[T, float]:
        """Move the clock ``step`` at a time until ``check`` returns something truthy; return it and
        the mock seconds that took. Between steps the stations finish what the step started (their
        SQLite work runs in threads), so mock time never races ahead of work it should wait for."""
        moved = 0.0
        while True:
            found = await self._after_work_settles(check)
            if found:
                return found, moved
            if moved >= limit:
                raise AssertionError(f"{what}: not seen after {limit} mock seconds (last: {found!r})")
            await self.clock.advance(step)
            moved += step

    async def _after_work_settles(self, check: Callable[[], Awaitable[T]]) -> T:
        # Work a clock step wakes (a scan, a test, a retry) reaches the database within a few
        # loop turns and a thread hop: look a few times before the next step.
        result = await check()
        for _ in range(4):
            if result:
                break
            await asyncio.sleep(0.002)
            result = await check()
        return result


async def eventually(check: Callable[[], Awaitable[T]], what: str, timeout: float = 10.0) -> T:
    """Poll ``check`` until it returns something truthy (work in threads, such as SQLite, takes real
    time); fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


async def _initialise(root: Path, test_interval: float, ack_deadlines: dict[str, float] | None) -> list[Path]:
    # Distinct link ports only so the two cards' endpoints differ: nothing ever listens on them.
    identities = [
        await init_station(root / sid, sid, name, link_port=port, link_test_interval=test_interval)
        for (sid, name), port in zip(STATIONS, MEMORY_PORTS, strict=True)
    ]
    for me in identities:
        if ack_deadlines is not None:
            config = json.loads(me.files.config.read_text())
            config["ack_deadlines"] = ack_deadlines
            me.files.config.write_text(json.dumps(config))
    for me, other in (identities, identities[::-1]):
        async with stored(me) as store:
            await pairing.add_peer(store, me, other.card())
            peer = await pairing.peer_or_fail(store, other.station_id)
            await pairing.verify_peer(store, me, other.station_id, pairing.code_for(me, peer))
    return [me.files.root for me in identities]


async def _duty_operator(station: Station) -> OperatorRecord:
    token = await operators.add_operator(station.store, "duty", Role.SUPERVISOR, station.clock)
    return await station.auth.authenticate(f"Bearer {token}")


@asynccontextmanager
async def inprocess_pair(
    root: Path,
    *,
    test_interval: float = QUIET_TEST_INTERVAL,
    ack_deadlines: dict[str, float] | None = None,
    links_up: bool = True,
) -> AsyncIterator[InProcessPair]:
    """washington and beijing, running in this event loop; by default past their start-up link tests."""
    clock = MockClock(start=utc_now())
    directories = await _initialise(root, test_interval, ack_deadlines)
    network = MemoryPathTransport(None)
    stations: dict[str, Station] = {}
    links: dict[str, FailoverTransport] = {}
    apps: dict[str, tuple[str, Any]] = {}
    clocks: dict[str, SkewedClock] = {}
    async with AsyncExitStack() as stack:
        for directory in directories:
            me = load_identity(directory)
            der = ssl.PEM_cert_to_DER_cert(me.tls_certificate)
            links[me.station_id] = FailoverTransport(Mounts({"https": network.for_station(der)}), clock)
            clocks[me.station_id] = SkewedClock(clock)
            station = await stack.enter_async_context(
                Station.open(directory, clock=clocks[me.station_id], transport=links[me.station_id])
            )
            stations[me.station_id] = station
            apps[me.station_id] = (me.config.endpoints[0], create_link_app(station.link_endpoint()))
            network.register(*apps[me.station_id])
        w, b = stations["washington"], stations["beijing"]
        duty = {s.me.station_id: await _duty_operator(s) for s in (w, b)}
        await stack.enter_async_context(w.running())
        await stack.enter_async_context(b.running())
        pair = InProcessPair(w, b, clock, duty, links, network, apps, clocks)
        if links_up:
            await eventually(lambda: _both_up(pair), "links up on both sides")
        yield pair


async def _both_up(pair: InProcessPair) -> bool:
    w, b = pair.washington, pair.beijing
    return all(
        s.testers[p].status()["state"] == "up" and s.workers[p].cursor.pending == 0
        for s, p in ((w, "beijing"), (b, "washington"))
    )


@asynccontextmanager
async def api_client(
    station: Station, name: str, role: Role = Role.OPERATOR, base: str = "http://127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """An operator script on ``station``'s API app, in process, with a new operator's bearer token.
    Its Host is one the app allows; an unexpected error comes back as the 500 a client would see."""
    token = await operators.add_operator(station.store, name, role, station.clock)
    transport = httpx.ASGITransport(app=create_api_app(station.services()), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url=base, headers=headers) as client:
        yield client
