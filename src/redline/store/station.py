"""The station store: one facade over the storage modules, as the services' ports describe it.

:class:`Store` implements ``StationStore`` (``redline.services.ports``) by
composing one class per concern: peers and operators (:mod:`.peers`), links
(:mod:`.links`), messages and receipts (:mod:`.messages`), escalation
(:mod:`.escalations`), alarms (:mod:`.alarms`) and the audit log
(:mod:`.audit`). Each owns its statements and runs them through the
:class:`~redline.store.database.Database`; none of them takes a statement
from outside. :meth:`Store.write` opens the one write transaction, whose
:class:`WriteTx` (``WriteTransaction``) methods are the only way rows change
in it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redline.store.alarms import AlarmStore, EquivocationWrites
from redline.store.audit import AuditReads, AuditWrites
from redline.store.calls import CallReads, CallWrites
from redline.store.database import CommitListener, Database, Executor
from redline.store.escalations import EscalationStore
from redline.store.links import LinkReads, LinkWrites
from redline.store.messages import MessageReads, MessageWrites
from redline.store.notices import NoticeWrites
from redline.store.operations import OperationsReads
from redline.store.peers import PeerStore
from redline.store.search import SearchReads
from redline.store.threads import ThreadReads, ThreadWrites
from redline.store.watch import PeerWatchWrites


class WriteTx(
    LinkWrites,
    MessageWrites,
    ThreadWrites,
    EquivocationWrites,
    NoticeWrites,
    AuditWrites,
    PeerWatchWrites,
    CallWrites,
):
    """Every row change of a station write happens through one of these, inside one transaction."""

    def __init__(self, conn: Executor, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres


class Store(
    PeerStore,
    LinkReads,
    MessageReads,
    ThreadReads,
    SearchReads,
    EscalationStore,
    AlarmStore,
    AuditReads,
    OperationsReads,
    CallReads,
):
    """A station's database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.postgres = database.postgres

    @classmethod
    async def open(cls, url: str) -> Store:
        return cls(await Database.open(url))

    async def close(self) -> None:
        await self.database.close()

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call ``listener()`` after every successful commit of a write (synchronously; keep it cheap)."""
        self.database.add_commit_listener(listener)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTx]:
        """One transaction; commits on success, rolls back on any exception."""
        async with self.database.transaction() as conn:
            yield WriteTx(conn, self.database.postgres)
