"""Database URLs, engines and migrations for SQLite and PostgreSQL.

SQLite is an embedded library whose statements take microseconds, so its
engine is a plain (synchronous) SQLAlchemy engine used on the event-loop
thread: a transaction then runs start to finish without yielding, instead of
paying a thread hop per statement and stretching while the loop is busy (which
held the single SQLite write lock for tens of milliseconds under load).
PostgreSQL is a network service and goes through asyncpg.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from redline.errors import InputError

_MIGRATIONS = Path(__file__).parent / "migrations"


def driver_url(url: str) -> str:
    """Accept ``sqlite:///path`` and ``postgresql://...``; pick the driver Redline uses."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"database URL {url!r} is not a URL like sqlite:///path or postgresql://host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise InputError("database URL: SQLite needs a file path (sqlite:////abs/path/redline.db)")
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise InputError(f"database URL: backend {backend!r} is not supported; use sqlite or postgresql")


def make_engine(url: str) -> Engine | AsyncEngine:
    full = driver_url(url)
    if full.startswith("sqlite"):
        _create_private(make_url(full).database)
        # check_same_thread off: a commit's fsync runs in a worker thread while the
        # store's write lock keeps every other user off that connection.
        engine = create_engine(full, pool_size=4, max_overflow=4, connect_args={"check_same_thread": False})
        _tune_sqlite(engine)
        return engine
    return create_async_engine(full, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _create_private(path: str | None) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use the umask, often 0644): it
    holds password hashes, TOTP secrets and session hashes. SQLite gives its -wal and -shm files
    the database file's mode."""
    if path:
        with contextlib.suppress(OSError):  # it exists, or SQLite will say why it cannot open it
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the driver so BEGIN IMMEDIATE can be used.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before a receipt leaves; survives power loss, not only kill -9.
        cur.execute("PRAGMA synchronous=FULL")
        # Another process (the CLI) may hold the write lock briefly; wait, but not for long.
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers lock the file up front so two writers never deadlock upgrading a read lock.
        write = conn.get_execution_options().get("redline_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _upgrade(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: Engine | AsyncEngine) -> None:
    if isinstance(engine, AsyncEngine):
        async with engine.connect() as conn:
            conn = await conn.execution_options(redline_write=True)
            await conn.run_sync(_upgrade)
            await conn.commit()
        return
    with engine.connect() as sync_conn:
        sync_conn = sync_conn.execution_options(redline_write=True)
        _upgrade(sync_conn)
        sync_conn.commit()


def migration_heads() -> set[str]:
    """The revisions this code's migrations end at (Alembic's heads)."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def _revisions(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


async def database_revisions(engine: Engine | AsyncEngine) -> set[str]:
    """The revisions the database is at (a real query of ``alembic_version``); never migrates."""
    if isinstance(engine, AsyncEngine):
        async with engine.connect() as conn:
            return await conn.run_sync(_revisions)
    with engine.connect() as sync_conn:
        return _revisions(sync_conn)


async def inspect_database(url: str) -> set[str]:
    """Connect to ``url`` without migrating it (``redline doctor``): the revisions it is at.
    Raises what the driver raises when the database cannot be reached."""
    full = driver_url(url)
    if full.startswith("sqlite"):
        path = make_url(full).database
        if not path or not Path(path).exists():
            raise FileNotFoundError(f"no database file {path}")
        engine: Engine | AsyncEngine = create_engine(full)
    else:
        engine = create_async_engine(full, connect_args={"timeout": 5})
    try:
        return await database_revisions(engine)
    finally:
        if isinstance(engine, AsyncEngine):
            await engine.dispose()
        else:
            engine.dispose()
