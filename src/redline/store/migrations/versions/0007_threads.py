"""Threads: the message each message answers, and which messages are requests awaiting an answer.

``in_reply_to`` holds the answered message's id (checked to be on the same link); ``expects_reply``
marks requests (REQ phrases). Requests stored before this migration are found by their phrase code
in the stored payload (``json.dumps`` writes ``"code": "REQ-..."``), so the unanswered list starts
complete; replies sent before it carried no ``in_reply_to`` except ``REP-*`` phrases naming a
message, which are linked the same way.

Revision ID: 0007_threads
Revises: 0006_officers
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007_threads"
down_revision = "0007_peer_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("in_reply_to", sa.String(32)))
        batch.add_column(sa.Column("expects_reply", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_messages_reply", "messages", ["in_reply_to"])
    op.create_index("ix_messages_requests", "messages", ["expects_reply", "stored_at", "id"])
    messages = sa.table(
        "messages",
        sa.column("id", sa.String),
        sa.column("peer_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("body", sa.Text),
        sa.column("in_reply_to", sa.String),
        sa.column("expects_reply", sa.Boolean),
    )
    conn = op.get_bind()
    conn.execute(
        messages.update()
        .where(messages.c.kind == "phrase", messages.c.body.like('%"code": "REQ-%'))
        .values(expects_reply=True)
    )
    # REP phrases naming a message on the same link answer it (domain/threads.py:phrase_answers).
    rows = conn.execute(
        sa.select(messages.c.id, messages.c.peer_id, messages.c.body).where(
            messages.c.kind == "phrase", messages.c.body.like('%"code": "REP-%')
        )
    ).all()
    for row in rows:
        named = json.loads(row.body).get("params", {}).get("message")
        if not isinstance(named, str):
            continue
        target = conn.execute(
            sa.select(messages.c.id).where(messages.c.id == named, messages.c.peer_id == row.peer_id)
        ).first()
        if target is not None:
            conn.execute(messages.update().where(messages.c.id == row.id).values(in_reply_to=named))


def downgrade() -> None:
    op.drop_index("ix_messages_requests", "messages")
    op.drop_index("ix_messages_reply", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("expects_reply")
        batch.drop_column("in_reply_to")
