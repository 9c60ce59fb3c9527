"""a patient's security prohibition (turvakielto)

Revision ID: 3c9e7b1f4a52
Revises: 5f2d8a6c1e37
Create Date: 2026-11-30 09:00:00

The region's chart marks a patient whose details the population register keeps from disclosure;
Askel records the mark with the patient. Every patient known before it has none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9e7b1f4a52"
down_revision: str | None = "5f2d8a6c1e37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(
            sa.Column(
                "security_prohibition", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("security_prohibition")
