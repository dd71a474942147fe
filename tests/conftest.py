"""Fixtures: real station pairs on loopback, on SQLite files and on PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.support.browser import chromium, live_demo
from tests.support.stations import (
    StationProcess,
    create_pg_database,
    drop_pg_database,
    make_pair,
    wait_until_links_up,
)

BACKENDS = ["sqlite", "postgres"]


def database_urls(backend: str, root: Path) -> tuple[str, str]:
    if backend == "sqlite":
        return (f"sqlite:///{root}/washington.db", f"sqlite:///{root}/beijing.db")
    return (create_pg_database(), create_pg_database())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.contextmanager
def pair_on(
    backend: str, tmp_path: Path, *, verify: bool = True, start: bool = True
) -> Iterator[tuple[StationProcess, StationProcess]]:
    """washington and beijing on ``backend``; stopped, and their databases dropped, afterwards."""
    urls = database_urls(backend, tmp_path)
    w, b = make_pair(tmp_path, urls, verify=verify)
    try:
        if start:
            w.start()
            b.start()
        yield w, b
    finally:
        w.stop()
        b.stop()
        if backend == "postgres":
            for url in urls:
                drop_pg_database(url)


@pytest.fixture
def station_pair(backend: str, tmp_path: Path) -> Iterator[tuple[StationProcess, StationProcess]]:
    """washington and beijing, paired, verified, running, and past their start-up link tests."""
    with pair_on(backend, tmp_path) as (w, b):
        wait_until_links_up(w, b)
        yield w, b


@pytest.fixture
def unstarted_pair(backend: str, tmp_path: Path) -> Iterator[tuple[StationProcess, StationProcess]]:
    """Like station_pair, but the test starts (and kills) the processes itself."""
    with pair_on(backend, tmp_path, start=False) as pair:
        yield pair


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live `redline demo` (two stations, console logins, API tokens), one per test module."""
    with live_demo(tmp_path_factory.mktemp("demo")) as stations:
        yield stations


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, one per test module."""
    with chromium() as b:
        yield b
