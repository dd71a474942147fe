"""An index for the console's needs-action panel: the messages of one direction still awaiting
acknowledgement, by deadline (``MessageReads.awaiting_ack``), read on every live update of every
console page; without it the read scans the whole box.

Revision ID: 0006_alarm
Revises: 0005
"""

from alembic import op

revision = "0006_alarm"
down_revision = "0006_transcript"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_pending", "messages", ["direction", "acked_at", "deadline"])


def downgrade() -> None:
    op.drop_index("ix_messages_pending", "messages")
