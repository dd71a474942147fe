"""Officers by name and the watch: display names, disabled accounts, a TOTP secret awaiting its
first code; the positions held now, the watch log, and who the peers say is on watch.

Revision ID: 0006_officers
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_officers"
down_revision = "0006_alarm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("display_name", sa.String(128)))
        batch.add_column(sa.Column("disabled_at", sa.String(32)))
        batch.add_column(sa.Column("totp_pending", sa.String(64)))
    op.create_table(
        "watch_posts",
        sa.Column("position", sa.String(16), primary_key=True),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("since", sa.String(32), nullable=False),
        sa.Column("handover_id", sa.Integer),
    )
    op.create_table(
        "watch_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("position", sa.String(16), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "peer_watch",
        sa.Column("peer_id", sa.String(32), primary_key=True),
        sa.Column("position", sa.String(16), primary_key=True),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("since", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("peer_watch")
    op.drop_table("watch_log")
    op.drop_table("watch_posts")
    with op.batch_alter_table("operators") as batch:
        for column in ("totp_pending", "disabled_at", "display_name"):
            batch.drop_column(column)
