"""The database a station writes to: engine, one write path, reads, commit listeners.

:class:`Database` is what the store modules (``peers``, ``links``,
``messages``, ``alarms``, ``audit``, ``notices``, ``console``) run their own
statements through; nothing outside ``redline.store`` sees it.

- :meth:`Database.transaction` is the one write path: ``BEGIN IMMEDIATE`` on
  SQLite (writers queue on an asyncio lock first, not in SQLite's busy
  handler), row locks on PostgreSQL. It commits on success, rolls back on any
  exception, and after each commit calls the registered commit listeners.
- :meth:`Database.fetch` runs one read outside a write transaction.

SQLite's engine is synchronous and used on the event-loop thread (see
:mod:`redline.store.engine`); :class:`LoopThreadConnection` gives it the same
awaitable ``execute`` as asyncpg's ``AsyncConnection``, so every store module
is written once for both backends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, CursorResult, Engine, Executable, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from redline.errors import StoreError
from redline.store.engine import make_engine, migrate

log = logging.getLogger(__name__)

CommitListener = Callable[[], None]


class Executor(Protocol):
    """The connection of one open transaction, as the store modules use it."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...


class LoopThreadConnection:
    """A synchronous SQLite connection behind the same awaitable ``execute`` as AsyncConnection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        if parameters is None:
            return self._conn.execute(statement)
        return self._conn.execute(statement, parameters)


class Database:
    """A station's database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, engine: Engine | AsyncEngine) -> None:
        self._engine = engine
        self.postgres = isinstance(engine, AsyncEngine)
        # SQLite has one writer at a time. Queue our own writers here rather than in
        # SQLite's busy handler, which sleeps in growing steps and wrecks latency.
        self._write_lock = asyncio.Lock()
        self._listeners: list[CommitListener] = []

    @classmethod
    async def open(cls, url: str) -> Database:
        engine = make_engine(url)
        try:
            await migrate(engine)
        except (SQLAlchemyError, OSError) as exc:
            await _dispose(engine)
            raise StoreError(f"cannot open database {url!r}: {exc}") from None
        return cls(engine)

    async def close(self) -> None:
        await _dispose(self._engine)

    @property
    def engine(self) -> Engine | AsyncEngine:
        return self._engine

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call ``listener()`` after every successful commit (synchronously: keep it cheap)."""
        self._listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """One write transaction; commits on success, rolls back on any exception."""
        if isinstance(self._engine, AsyncEngine):
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(redline_write=True)
                async with conn.begin():
                    yield conn
        else:
            async with self._write_lock:
                with self._engine.connect() as sync_conn:
                    sync_conn = sync_conn.execution_options(redline_write=True)
                    transaction = sync_conn.begin()
                    try:
                        yield LoopThreadConnection(sync_conn)
                    except BaseException:
                        transaction.rollback()
                        raise
                    # The commit waits for fsync: let the loop serve requests meanwhile (they
                    # queue up for the next group commit). The write lock keeps the connection ours.
                    commit = asyncio.get_running_loop().run_in_executor(None, transaction.commit)
                    try:
                        await asyncio.shield(commit)
                    except asyncio.CancelledError:
                        # Cancelled (the station is stopping) while the commit runs in its thread:
                        # never close the connection under it. Let it finish, tell the listeners
                        # if it committed, then let the cancellation through.
                        await asyncio.wait({commit})
                        if not commit.cancelled() and commit.exception() is None:
                            self._committed()
                        raise
        self._committed()

    def _committed(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                # A listener's bug must not turn a committed write into a reported failure.
                log.exception("commit listener failed")

    async def fetch(self, query: Executable) -> list[Any]:
        """The rows of one read, outside any write transaction."""
        if isinstance(self._engine, AsyncEngine):
            async with self._engine.connect() as conn:
                return list(await conn.execute(query))
        with self._engine.connect() as sync_conn:
            return list(sync_conn.execute(query))


def past(
    columns: tuple[ColumnElement[Any], ...], key: tuple[Any, ...], descending: bool
) -> ColumnElement[bool]:
    """Rows strictly past ``key`` in the order of ``columns`` (the last one unique): the keyset
    condition of a page. A row value comparison, which SQLite and PostgreSQL both serve from an
    index on the same columns."""
    if len(columns) != len(key):
        raise ValueError(f"a key of {len(columns)} values was expected, not {len(key)}")
    row = tuple_(*columns)
    position = tuple_(*key)
    return row < position if descending else row > position


async def _dispose(engine: Engine | AsyncEngine) -> None:
    if isinstance(engine, AsyncEngine):
        await engine.dispose()
    else:
        engine.dispose()
