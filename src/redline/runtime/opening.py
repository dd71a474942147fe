"""Opening a station's parts: its store (the one place that opens one) and its link transport.

The CLI's commands that do not run the station (``peer add``, ``operator add``,
the demo's set-up) open the store here too, so there is no other way to reach
a station's database than the one ``redline serve`` uses.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redline.domain.clock import Clock
from redline.services import station as station_files
from redline.services.station import StationIdentity, load_identity
from redline.store.database import Database
from redline.store.engine import driver_url, inspect_database, make_engine, migration_heads
from redline.store.station import Store
from redline.transport.failover import FailoverTransport
from redline.transport.mounts import station_mounts


async def open_store(me: StationIdentity) -> Store:
    """The station's store. Every process that touches a station's database opens it here."""
    return await Store.open(me.config.database_url)


@asynccontextmanager
async def stored(me: StationIdentity) -> AsyncIterator[Store]:
    """The station's store for the length of a block (CLI commands, demo set-up)."""
    store = await open_store(me)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def station_store(data_dir: Path) -> AsyncIterator[tuple[StationIdentity, Store]]:
    """A data directory's identity and store, for a command that does not run the station."""
    me = load_identity(data_dir)
    async with stored(me) as store:
        yield me, store


class _SqlDatabaseSetup:
    """``redline init``'s database: the URL checked by the store's engine, the schema by Alembic."""

    def check_url(self, url: str) -> None:
        driver_url(url)

    async def create(self, url: str) -> None:
        store = await Store.open(url)
        await store.close()


init_station = functools.partial(station_files.init_station, database=_SqlDatabaseSetup())
"""``redline init``: keys, certificate, configuration and database of a new station
(``services.station.init_station``, with this module creating the database)."""


def link_transport(me: StationIdentity, clock: Clock) -> FailoverTransport:
    """The production transport: HTTPS and NATS relay paths, mounted by scheme, failover above them."""
    mounts = station_mounts(
        str(me.files.tls_cert), str(me.files.tls_key), me.station_id, me.keys.signing_public, clock
    )
    return FailoverTransport(mounts, clock)


async def database_revisions(me: StationIdentity) -> set[str]:
    """The migration revisions the station's database is at, read without migrating it."""
    return await inspect_database(me.config.database_url)


def code_revisions() -> set[str]:
    """The revisions this code's migrations end at."""
    return migration_heads()


@asynccontextmanager
async def unmigrated_store(me: StationIdentity) -> AsyncIterator[Store]:
    """The station's store for reading only, its schema left as it is (``redline doctor``)."""
    store = Store(Database(make_engine(me.config.database_url)))
    try:
        yield store
    finally:
        await store.close()
