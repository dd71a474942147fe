"""Call requests: the ``call`` envelopes of each call, and one row per call (redline.domain.calls).

Revision ID: 0008_calls
Revises: 0007_search_order
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_calls"
down_revision = "0007_search_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(32), primary_key=True),
        sa.Column("peer_id", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(32), nullable=False),
        sa.Column("callee", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("awaiting", sa.String(32)),
        sa.Column("reply_by", sa.String(32)),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("escalated_at", sa.String(32)),
    )
    op.create_index("ix_calls_requested", "calls", ["requested_at", "call_id"])
    op.create_index("ix_calls_reply", "calls", ["awaiting", "escalated_at", "reply_by"])
    op.create_table(
        "call_events",
        sa.Column("message_id", sa.String(32), primary_key=True),
        sa.Column("call_id", sa.String(32), nullable=False),
        sa.Column("station", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_call_events_call", "call_events", ["call_id", "ts"])


def downgrade() -> None:
    op.drop_table("call_events")
    op.drop_table("calls")
