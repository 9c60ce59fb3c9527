"""sync cursors

Revision ID: 774e782fd215
Revises: 3b1f0c2a9d7e
Create Date: 2026-11-28 15:54:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "774e782fd215"
down_revision: str | None = "3b1f0c2a9d7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_cursors")),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
