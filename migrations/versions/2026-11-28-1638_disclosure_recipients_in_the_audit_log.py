"""disclosure recipients in the audit log

Revision ID: d76f69eb0f8b
Revises: 774e782fd215
Create Date: 2026-11-28 16:38:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d76f69eb0f8b"
down_revision: str | None = "774e782fd215"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("recipient", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "recipient")
