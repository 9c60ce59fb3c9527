"""grant recertification

Revision ID: e2dc655cffa7
Revises: 8b1aa45dc5de
Create Date: 2026-11-28 14:12:18.552881
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2dc655cffa7"
down_revision: str | None = "8b1aa45dc5de"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "access_grants", sa.Column("recertified_by", sa.String(length=128), nullable=True)
    )
    op.add_column("access_grants", sa.Column("recertified_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("access_grants", "recertified_on")
    op.drop_column("access_grants", "recertified_by")
