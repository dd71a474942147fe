"""Initial schema: peers, operators, links, messages, receipts, equivocations, audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("station_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("signing_key", sa.String(64), nullable=False),
        sa.Column("encryption_key", sa.String(64), nullable=False),
        sa.Column("tls_fingerprint", sa.String(80), nullable=False, unique=True),
        sa.Column("tls_certificate", sa.Text, nullable=False),
        sa.Column("endpoints", sa.Text, nullable=False),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("verified_at", TS),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "links",
        sa.Column("peer_id", sa.String(32), primary_key=True),
        sa.Column("out_next_seq", sa.Integer, nullable=False),
        sa.Column("out_last_digest", sa.String(64), nullable=False),
        sa.Column("in_next_seq", sa.Integer, nullable=False),
        sa.Column("in_last_digest", sa.String(64), nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("peer_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("precedence", sa.String(16), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("deadline", TS),
        sa.Column("created_by", sa.String(64)),
        sa.Column("stored_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("delivered_at", TS),
        sa.Column("receipt_id", sa.String(64)),
        sa.Column("ack_of", sa.String(32)),
        sa.Column("acked_at", TS),
        sa.Column("acked_by", sa.String(128)),
        sa.Column("ack_message_id", sa.String(32)),
        sa.UniqueConstraint("peer_id", "direction", "seq", name="uq_messages_chain_position"),
    )
    op.create_index("ix_messages_box", "messages", ["direction", "stored_at"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("peer_id", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "equivocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("peer_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("known_digest", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detected_at", TS, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "equivocations", "receipts", "messages", "links", "operators", "peers"):
        op.drop_table(table)
