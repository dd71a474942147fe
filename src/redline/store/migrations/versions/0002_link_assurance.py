"""Link assurance: suspension and shared scorecard on links, link alarms, escalation marks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("suspended_at", sa.String(32)))
        batch.add_column(sa.Column("suspended_by", sa.String(128)))
        batch.add_column(sa.Column("peer_suspended_at", sa.String(32)))
        batch.add_column(sa.Column("peer_suspended_by", sa.String(128)))
        batch.add_column(sa.Column("peer_scorecard", sa.Text))
    op.create_table(
        "link_alarms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("peer_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("raised_at", sa.String(32), nullable=False),
        sa.Column("cleared_at", sa.String(32)),
    )
    op.create_index("ix_messages_kind", "messages", ["peer_id", "kind", "direction"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("escalated_at", sa.String(32)))
    op.create_index("ix_messages_deadline", "messages", ["acked_at", "escalated_at", "deadline"])


def downgrade() -> None:
    op.drop_index("ix_messages_deadline", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("escalated_at")
    op.drop_index("ix_messages_kind", "messages")
    op.drop_table("link_alarms")
    with op.batch_alter_table("links") as batch:
        batch.drop_column("peer_scorecard")
        batch.drop_column("peer_suspended_by")
        batch.drop_column("peer_suspended_at")
        batch.drop_column("suspended_by")
        batch.drop_column("suspended_at")
