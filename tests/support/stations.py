"""Real stations for tests: initialised, paired and verified, each a `redline serve` subprocess.

``make_pair`` prepares two stations (SQLite files or fresh PostgreSQL
databases); ``StationProcess`` starts, stops, SIGKILLs and restarts one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from redline.domain.stations import Role
from redline.services import operators, pairing
from redline.services.station import StationIdentity, init_station
from redline.store.station import Store

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Stations test each link at start-up and then every interval on wall-clock slots. Tests that
# count rows want no scheduled test mid-run: a week between tests (the longest allowed) makes a
# slot inside a test run vanishingly unlikely; tests of link assurance pass a short interval.
QUIET_TEST_INTERVAL = 7 * 24 * 3600.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pg_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
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
    def link_url(self) -> str:
        return f"https://127.0.0.1:{self.link_port}"

    def command_prefix(self) -> list[str]:
        """What runs ``redline serve`` (subclasses run it inside a network namespace)."""
        return []

    def start(self, timeout: float = 30.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                *self.command_prefix(),
                sys.executable,
                "-m",
                "redline",
                "serve",
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.station_id} exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.station_id} did not come up: {self.log_path.read_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
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


async def _init(
    root: Path,
    station_id: str,
    name: str,
    database_url: str | None,
    test_interval: float = QUIET_TEST_INTERVAL,
    endpoints: Callable[[int], list[str]] | None = None,
) -> tuple[StationIdentity, int, int]:
    api_port, link_port = free_port(), free_port()
    me = await init_station(
        root / station_id,
        station_id,
        name,
        database_url,
        api_port=api_port,
        link_port=link_port,
        link_test_interval=test_interval,
        endpoints=endpoints(link_port) if endpoints else None,
    )
    return me, api_port, link_port


async def _pair(a: StationIdentity, b: StationIdentity, verify: bool) -> str:
    store = await Store.open(a.config.database_url)
    try:
        await pairing.add_peer(store, a, b.card())
        if verify:
            peer = await pairing.peer_or_fail(store, b.station_id)
            await pairing.verify_peer(store, a, b.station_id, pairing.code_for(a, peer))
        return await operators.add_operator(store, "duty", Role.OPERATOR)
    finally:
        await store.close()


def make_pair(
    root: Path,
    database_urls: tuple[str | None, str | None] = (None, None),
    verify: bool = True,
    *,
    test_interval: float = QUIET_TEST_INTERVAL,
    beijing_endpoints: Callable[[int], list[str]] | None = None,
) -> tuple[StationProcess, StationProcess]:
    """washington and beijing, initialised, cards exchanged and (by default) verified; not started.

    Databases default to a SQLite file in each station's directory. ``beijing_endpoints`` maps
    beijing's link port to the endpoints its card lists (several paths, a relay)."""

    async def go() -> tuple[StationProcess, StationProcess]:
        w, wa, wl = await _init(root, "washington", "Washington", database_urls[0], test_interval)
        b, ba, bl = await _init(
            root, "beijing", "Beijing", database_urls[1], test_interval, beijing_endpoints
        )
        wt = await _pair(w, b, verify)
        bt = await _pair(b, w, verify)
        return (
            StationProcess("washington", w.files.root, w.config.database_url, wa, wl, wt),
            StationProcess("beijing", b.files.root, b.config.database_url, ba, bl, bt),
        )

    return asyncio.run(go())


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_until_links_up(a: StationProcess, b: StationProcess, timeout: float = 30.0) -> None:
    """Both sides have had their start-up link test answered: the link is quiet from here on."""

    def up(station: StationProcess, peer: str) -> bool:
        with station.client() as c:
            r = c.get(f"/links/{peer}")
        return r.status_code == 200 and r.json()["state"] == "up" and r.json()["queue_depth"] == 0

    wait_for(lambda: up(a, b.station_id) and up(b, a.station_id), timeout=timeout, what="links up")
