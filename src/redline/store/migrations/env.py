"""Alembic environment: runs on a connection handed over by redline.store.migrate."""

from __future__ import annotations

from alembic import context

from redline.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations through redline.store.migrate (redline init / redline serve)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
