"""page sessions and each user's page language

Revision ID: 5f2d8a6c1e37
Revises: 8e5a1c7d2b94
Create Date: 2026-11-29 19:00:00

People sign in to Askel's pages: their sessions are kept on the server, and the language they
choose is remembered on their account.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f2d8a6c1e37"
down_revision: str | None = "8e5a1c7d2b94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_page_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_sessions")),
    )
    op.create_index(op.f("ix_page_sessions_user_id"), "page_sessions", ["user_id"])
    op.create_index(op.f("ix_page_sessions_last_seen_at"), "page_sessions", ["last_seen_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("page_language", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("page_language")
    op.drop_index(op.f("ix_page_sessions_last_seen_at"), table_name="page_sessions")
    op.drop_index(op.f("ix_page_sessions_user_id"), table_name="page_sessions")
    op.drop_table("page_sessions")
