"""Indexes for paged lists: each list's keyset order, so a page is an index range scan.

Messages page by (stored_at, id) within a box, escalations by (escalated_at, id),
notices by (starts_at, id), conflicts by (opened_at, pair), with or without a
state. The audit log and the alarm tables page by their integer primary key.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_messages_box", "messages")
    op.create_index("ix_messages_box", "messages", ["direction", "stored_at", "id"])
    op.create_index("ix_messages_escalated", "messages", ["escalated_at", "id"])
    op.create_index("ix_notices_start", "notices", ["starts_at", "id"])
    op.drop_index("ix_conflicts_state", "conflicts")
    op.create_index("ix_conflicts_state", "conflicts", ["state", "opened_at", "pair"])
    op.create_index("ix_conflicts_opened", "conflicts", ["opened_at", "pair"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_opened", "conflicts")
    op.drop_index("ix_conflicts_state", "conflicts")
    op.create_index("ix_conflicts_state", "conflicts", ["state"])
    op.drop_index("ix_notices_start", "notices")
    op.drop_index("ix_messages_escalated", "messages")
    op.drop_index("ix_messages_box", "messages")
    op.create_index("ix_messages_box", "messages", ["direction", "stored_at"])
