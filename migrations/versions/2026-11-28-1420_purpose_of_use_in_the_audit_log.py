"""purpose of use in the audit log

Revision ID: e991319823a8
Revises: e2dc655cffa7
Create Date: 2026-11-28 14:20:23.963510
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e991319823a8"
down_revision: str | None = "e2dc655cffa7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("purpose", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "purpose")
