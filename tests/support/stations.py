"""Real stations for tests: initialised, paired and verified, each a `redline serve` subprocess.

:func:`two_stations` is the one way tests, fixtures and bench scripts get a pair of subprocess
stations: washington and beijing, on SQLite files or on two fresh PostgreSQL databases, cards
exchanged (and by default verified), an operator ``duty`` on each. It starts them (unless told
not to), and on the way out stops them and drops their PostgreSQL databases, whatever happened.
Where a station listens and what its card advertises can be changed per side with a
:class:`Placement` (the relay and path tests advertise several endpoints; the fault suite puts
each station in a network namespace).

:class:`StationProcess` starts, stops, SIGKILLs and restarts one station; :func:`wait_for`
polls for a condition with a deadline and names what it waited for when the deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from typing_extensions import TypeVar

from redline.domain.stations import Role
from redline.runtime import init_station
from redline.services import operators, pairing
from redline.services.station import StationIdentity
from redline.store.station import Store

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")
# Stations test each link at start-up and then every interval on wall-clock slots. Tests that
# count rows want no scheduled test mid-run: a week between tests (the longest allowed) makes a
# slot inside a test run vanishingly unlikely; tests of link assurance pass a short interval.
QUIET_TEST_INTERVAL = 7 * 24 * 3600.0
NAMES = {"washington": "Washington", "beijing": "Beijing"}

# Set by tests/conftest.py for each test: does it carry the `slow` marker? A test that starts a
# subprocess station without it fails with UnmarkedSlowTest (so `-m "not slow"` stays honest).
RUNNING_TEST: tuple[str, bool] | None = None


class UnmarkedSlowTest(AssertionError):
    """A test started a subprocess station but is not marked ``slow``."""


T = TypeVar("T")
# The station class two_stations makes; StationProcess unless told (PEP 696 default).
S = TypeVar("S", bound="StationProcess", default="StationProcess")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that; fail after ``timeout``
    seconds with an error naming ``what`` was awaited and the last value seen."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


wait_until = wait_for  # the name the issue uses


async def _pg_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database() -> str:
    name = f"redline_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class StationProcess:
    """One station: its directory, token, ports, and (when running) its process."""

    station_id: str
    data_dir: Path
    database_url: str
    api_port: int
    link_port: int
    token: str
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir.parent / f"{self.station_id}.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/"

    @property
    def link_url(self) -> str:
        return f"https://127.0.0.1:{self.link_port}"

    def command_prefix(self) -> list[str]:
        """What runs ``redline serve`` (subclasses run it inside a network namespace)."""
        return []

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        assert not self.running(), "already running"
        if RUNNING_TEST is not None and not RUNNING_TEST[1]:
            raise UnmarkedSlowTest(f"{RUNNING_TEST[0]} starts subprocess stations: mark it slow")
        serve = [sys.executable, "-m", "redline", "serve", "--data-dir", str(self.data_dir)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.command_prefix(), *serve],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.station_id} exited: {self.log_path.read_text()[-3000:]}")
            try:
                return httpx.get(f"{self.api_url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_for(healthy, timeout, what=f"{self.station_id}'s /health to answer")
        except AssertionError as late:
            raise RuntimeError(f"{late}; its log: {self.log_path.read_text()[-3000:]}") from None

    def configure(self, **settings: Any) -> None:
        """Change settings in the station's station.json (while it is stopped: it reads them at start)."""
        assert not self.running(), "stop the station before changing its settings"
        path = self.data_dir / "station.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(settings) - set(config)
        assert not unknown, f"station.json has no settings {sorted(unknown)}"
        path.write_text(json.dumps({**config, **settings}, indent=2) + "\n", encoding="utf-8")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if not self.running():
            return
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)  # a test may have stopped it (SIGSTOP): let it hear TERM
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def client(self, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token or self.token}"},
        )

    async def open_store(self) -> Store:
        return await Store.open(self.database_url)

    def counts(self) -> dict[str, int]:
        async def go() -> dict[str, int]:
            store = await self.open_store()
            try:
                return await store.counts()
            finally:
                await store.close()

        return asyncio.run(go())


@dataclass(frozen=True)
class Placement:
    """Where one station listens and what its card advertises (defaults: free loopback ports,
    the card listing the link port).

    ``endpoints`` maps the station's link port to the endpoints its card lists, in order of
    preference (several paths, a relay, a proxy in front); ``extra`` goes to the station
    object's constructor (a namespace's name, say)."""

    api_port: int | None = None
    link_port: int | None = None
    api_host: str = "127.0.0.1"
    link_host: str = "127.0.0.1"
    endpoints: Callable[[int], list[str]] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


async def _init(
    root: Path, station_id: str, database_url: str, interval: float, at: Placement
) -> tuple[StationIdentity, int, int]:
    api_port, link_port = at.api_port or free_port(), at.link_port or free_port()
    me = await init_station(
        root / station_id,
        station_id,
        NAMES[station_id],
        database_url,
        api_port=api_port,
        link_port=link_port,
        api_host=at.api_host,
        link_host=at.link_host,
        link_test_interval=interval,
        endpoints=at.endpoints(link_port) if at.endpoints else None,
    )
    return me, api_port, link_port


async def _pair(a: StationIdentity, b: StationIdentity, verify: bool) -> str:
    """``a`` adds (and verifies) ``b``'s card; returns the token of ``a``'s operator ``duty``."""
    store = await Store.open(a.config.database_url)
    try:
        await pairing.add_peer(store, a, b.card())
        if verify:
            peer = await pairing.peer_or_fail(store, b.station_id)
            await pairing.verify_peer(store, a, b.station_id, pairing.code_for(a, peer))
        return await operators.add_operator(store, "duty", Role.OPERATOR)
    finally:
        await store.close()


def _prepare(
    root: Path,
    urls: tuple[str, str],
    verify: bool,
    interval: float,
    placements: Mapping[str, Placement],
    station_type: type[S],
) -> tuple[S, S]:
    async def go() -> tuple[S, S]:
        made = []
        for station_id, url in zip(NAMES, urls, strict=True):
            at = placements.get(station_id, Placement())
            me, api_port, link_port = await _init(root, station_id, url, interval, at)
            made.append((me, api_port, link_port, at))
        (w, *_), (b, *_) = made
        tokens = [await _pair(w, b, verify), await _pair(b, w, verify)]
        stations = [
            station_type(me.station_id, me.files.root, me.config.database_url, api, link, token, **at.extra)
            for (me, api, link, at), token in zip(made, tokens, strict=True)
        ]
        return stations[0], stations[1]

    return asyncio.run(go())


def _database_urls(backend: str, root: Path) -> tuple[str, str]:
    if backend == "sqlite":
        return (f"sqlite:///{root}/washington.db", f"sqlite:///{root}/beijing.db")
    assert backend == "postgres", f"unknown backend {backend!r}: expected one of {BACKENDS}"
    first = create_pg_database()
    try:
        return (first, create_pg_database())
    except BaseException:
        drop_pg_database(first)
        raise


@contextlib.contextmanager
def two_stations(
    root: Path,
    backend: str = "sqlite",
    *,
    verify: bool = True,
    start: bool = True,
    links_up: bool = False,
    test_interval: float = QUIET_TEST_INTERVAL,
    placements: Mapping[str, Placement] | None = None,
    station_type: type[S] = StationProcess,  # type: ignore[assignment]
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> Iterator[tuple[S, S]]:
    """washington and beijing on ``backend``, paired under ``root``; stopped, and their databases
    dropped, on the way out.

    ``verify=False`` leaves the cards unverified; ``start=False`` leaves starting (and killing)
    to the test; ``links_up`` waits after start until both start-up link tests are answered, so
    the links are quiet from there on. ``test_interval`` is the seconds between scheduled link
    tests; ``placements`` (by station id) and ``station_type`` are for paths, relays and
    namespaces; ``settings`` (by station id) go into station.json before the start."""
    urls = _database_urls(backend, root)
    stations: tuple[S, S] | None = None
    try:
        stations = _prepare(root, urls, verify, test_interval, placements or {}, station_type)
        for s in stations:
            s.configure(**(settings or {}).get(s.station_id, {}))
        if start:
            for s in stations:
                s.start()
            if links_up:
                wait_until_links_up(*stations)
        yield stations
    finally:
        for s in stations or ():
            with contextlib.suppress(Exception):
                s.stop()
        if backend == "postgres":
            for url in urls:
                drop_pg_database(url)


def add_operator(station: StationProcess, name: str, role: Role) -> str:
    """A new operator on ``station`` (running or not); its API token."""

    async def go() -> str:
        store = await station.open_store()
        try:
            return await operators.add_operator(store, name, role)
        finally:
            await store.close()

    return asyncio.run(go())


def wait_until_links_up(a: StationProcess, b: StationProcess, timeout: float = 60.0) -> None:
    """Both sides have had their start-up link test answered: the link is quiet from here on."""

    def link(station: StationProcess, peer: str) -> dict[str, Any]:
        with station.client() as c:
            r = c.get(f"/links/{peer}")
        return dict(r.json()) if r.status_code == 200 else {"status": r.status_code, "body": r.text}

    def up(link: dict[str, Any]) -> bool:
        return link.get("state") == "up" and link.get("queue_depth") == 0

    try:
        wait_for(
            lambda: up(link(a, b.station_id)) and up(link(b, a.station_id)),
            timeout,
            what="links up both ways",
        )
    except AssertionError as late:
        seen = {s.station_id: link(s, p.station_id) for s, p in ((a, b), (b, a))}
        logs = {s.station_id: s.log_path.read_text(errors="replace")[-2000:] for s in (a, b)}
        raise AssertionError(f"{late}\nlinks: {seen}\nlogs: {logs}") from None
