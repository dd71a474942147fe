"""Deconfliction: activity notices (ours and our peers') and the conflicts between them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("party", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("activity", sa.String(32), nullable=False),
        sa.Column("starts_at", sa.String(32), nullable=False),
        sa.Column("ends_at", sa.String(32)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("shared", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_notices_party_state", "notices", ["party", "state"])
    op.create_table(
        "conflicts",
        sa.Column("pair", sa.String(130), primary_key=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("notice_a", sa.String(64), nullable=False),
        sa.Column("notice_b", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("closed_at", sa.String(32)),
    )
    op.create_index("ix_conflicts_state", "conflicts", ["state"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_state", "conflicts")
    op.drop_table("conflicts")
    op.drop_index("ix_notices_party_state", "notices")
    op.drop_table("notices")
