"""Durable state in SQLite (embedded default) or PostgreSQL, through SQLAlchemy Core.

:class:`~redline.store.sql.Store` opens the database, brings the schema up to
date with Alembic, and offers short reads plus :meth:`Store.write`, a
transaction (``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL) whose
:class:`~redline.store.sql.WriteTx` methods are the only way rows change.
Services see it through the ``StationStore`` protocol in
``redline.services.ports``.
"""
