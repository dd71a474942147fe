"""Peers by name: what the console calls each peer, per language (JSON object lang -> name).

Revision ID: 0007_peer_names
Revises: 0006_officers
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_peer_names"
down_revision = "0006_officers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.add_column(sa.Column("display_names", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.drop_column("display_names")
