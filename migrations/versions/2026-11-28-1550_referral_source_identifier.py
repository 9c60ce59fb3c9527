"""referral source identifier

Revision ID: 3b1f0c2a9d7e
Revises: d425f809da63
Create Date: 2026-11-28 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b1f0c2a9d7e"
down_revision: str | None = "d425f809da63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("referrals", sa.Column("source_identifier", sa.String(length=300), nullable=True))
    op.create_index(
        "ix_referrals_source_identifier", "referrals", ["source_identifier"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_source_identifier", table_name="referrals")
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.drop_column("source_identifier")
