"""Durable state in SQLite (embedded default) or PostgreSQL, through SQLAlchemy Core.

:class:`~redline.store.station.Store` opens the database (``database``:
engine, migrations with Alembic, the one write transaction, commit
listeners) and composes one module per concern: ``peers``, ``links``,
``messages``, ``escalations``, ``alarms``, ``audit``; ``notices`` and
``console`` are stores of their own over the same database. Each module owns
its statements; no interface runs a statement given from outside.
:meth:`Store.write` is a transaction (``BEGIN IMMEDIATE`` on SQLite, row locks
on PostgreSQL) whose :class:`~redline.store.station.WriteTx` methods are the
only way a station's rows change in it. Rows come back as the typed records of
``redline.domain.records``. Services see the store through the
``StationStore`` protocol in ``redline.services.ports``.
"""
