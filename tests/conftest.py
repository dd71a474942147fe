"""Fixtures: real station pairs on loopback, on SQLite files and on PostgreSQL; the browser suite's
demo stations and Chromium.

Every pair comes from :func:`tests.support.stations.two_stations`. The ``backend`` fixture runs a
test once per database; its PostgreSQL run carries the ``postgres`` marker, and every test that
starts subprocess stations through these fixtures is marked ``slow`` here (see
``pytest_collection_modifyitems``), so ``-m "not slow"`` and ``-m "not postgres"`` select what
they say. Playwright is imported inside the browser fixtures only: the rest of the suite runs
without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import stations
from tests.support.console import console_info
from tests.support.stations import StationProcess, create_pg_database, drop_pg_database, two_stations

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Fixtures that start `redline serve` subprocesses: a test using any of them is ``slow``.
STATION_FIXTURES = {"station_pair", "unstarted_pair", "demo"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)  # before the fixtures (the test's stations) are set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    stations.RUNNING_TEST = (item.nodeid, item.get_closest_marker("slow") is not None)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    stations.RUNNING_TEST = None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend, for tests of the store itself."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
        return
    pg = create_pg_database()
    try:
        yield pg
    finally:
        drop_pg_database(pg)


@pytest.fixture
def station_pair(backend: str, tmp_path: Path) -> Iterator[tuple[StationProcess, StationProcess]]:
    """washington and beijing, paired, verified, running, and past their start-up link tests."""
    with two_stations(tmp_path, backend, links_up=True) as pair:
        yield pair


@pytest.fixture
def unstarted_pair(backend: str, tmp_path: Path) -> Iterator[tuple[StationProcess, StationProcess]]:
    """Like station_pair, but the test starts (and kills) the processes itself."""
    with two_stations(tmp_path, backend, start=False) as pair:
        yield pair


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Two running stations with an operator ``duty`` who can log in to each console, one pair per
    test module; by station id, the fields `redline demo --info` gives (`console_url`, `api_url`,
    `token`, `logins`)."""
    with two_stations(tmp_path_factory.mktemp("demo"), links_up=True) as pair:
        yield {s.station_id: console_info(s) for s in pair}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, one per test module."""
    from tests.support.browser import chromium

    with chromium() as b:
        yield b
