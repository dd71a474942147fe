"""Console accounts: passwords, second factor, lockout, language; sessions; translations.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text))
        batch.add_column(sa.Column("totp_secret", sa.String(64)))
        batch.add_column(sa.Column("totp_last_step", sa.Integer))
        batch.add_column(sa.Column("language", sa.String(16), nullable=False, server_default="en"))
        batch.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.String(32)))
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operators.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("seen_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "translations",
        sa.Column("message_id", sa.String(32), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("lang", sa.String(35), nullable=False),
        sa.Column("translated_by", sa.String(64), nullable=False),
        sa.Column("translated_at", sa.String(32), nullable=False),
        sa.Column("certified_by", sa.String(64)),
        sa.Column("certified_at", sa.String(32)),
    )


def downgrade() -> None:
    op.drop_table("translations")
    op.drop_table("console_sessions")
    with op.batch_alter_table("operators") as batch:
        for column in ("locked_until", "failed_logins", "language", "totp_last_step", "totp_secret"):
            batch.drop_column(column)
        batch.drop_column("password_hash")
