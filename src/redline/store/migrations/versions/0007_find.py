"""Finding messages: each message's search text (what a person reads in it, folded, made once
when it is stored: ``redline.domain.search``), filled in here for the messages already stored;
and on PostgreSQL trigram indexes (pg_trgm) that serve ``LIKE '%word%'`` over the search texts
and the translations, so a search does not read every row.

pg_trgm is a trusted extension (PostgreSQL 13 on): the database's owner may create it. Where it
cannot be created, the migration goes on without the indexes (a search then scans the messages)
and says so in the log.

Revision ID: 0007_find
Revises: 0006_officers
"""

import json
import logging

import sqlalchemy as sa
from alembic import op

from redline.domain.messages import MessageKind
from redline.domain.search import SEARCHED_KINDS, search_text

revision = "0007_find"
down_revision = "0007_threads"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
BATCH = 1000

messages = sa.table(
    "messages",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("body", sa.Text),
    sa.column("search_text", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    conn = op.get_bind()
    readable = sorted(k.value for k in SEARCHED_KINDS)
    last = ""
    while True:
        rows = conn.execute(
            sa.select(messages.c.id, messages.c.kind, messages.c.body)
            .where(messages.c.kind.in_(readable), messages.c.id > last)
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            text = search_text(MessageKind(row.kind), json.loads(row.body))
            conn.execute(sa.update(messages).where(messages.c.id == row.id).values(search_text=text))
        last = rows[-1].id
    if conn.dialect.name == "postgresql":
        _trigram_indexes(conn)


def _trigram_indexes(conn: sa.Connection) -> None:
    savepoint = conn.begin_nested()  # a refused CREATE EXTENSION must not abort the migration
    try:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        log.warning("pg_trgm unavailable (%s): searches will scan the messages", exc.orig)
        return
    savepoint.commit()
    op.execute("CREATE INDEX ix_messages_search ON messages USING gin (search_text gin_trgm_ops)")
    op.execute("CREATE INDEX ix_translations_search ON translations USING gin (lower(text) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_translations_search")
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("search_text")
