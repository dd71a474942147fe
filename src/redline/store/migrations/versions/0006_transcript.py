"""An index for a link's transcript: both directions of one peer in (stored_at, id) order, so a
transcript page (and an export read a page at a time) is an index range scan.

Revision ID: 0006_transcript
Revises: 0005
"""

from alembic import op

revision = "0006_transcript"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_link", "messages", ["peer_id", "stored_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_link", "messages")
