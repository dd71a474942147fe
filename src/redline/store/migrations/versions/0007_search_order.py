"""Searching both boxes pages newest first by (stored_at, id) with no direction to lead an
index: without one, every page of a search over both boxes read and sorted the whole table
(``bench/search.py``'s 20th page of ROUTINE over 100,000 messages: about 350 ms a page on
SQLite). An index on (stored_at, id) lets a page walk the messages in order and stop at its
limit.

Revision ID: 0007_search_order
Revises: 0007_find
"""

from alembic import op

revision = "0007_search_order"
down_revision = "0007_find"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_order", "messages", ["stored_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_order", table_name="messages")
