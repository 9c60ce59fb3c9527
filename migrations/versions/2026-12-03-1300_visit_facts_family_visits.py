"""family visits on the visit facts

Revision ID: 5d9a2c7e4b18
Revises: 8e3b5d7f1a26
Create Date: 2026-12-03 13:00:00

The statistics count family visits apart from individual ones. The facts are derived data:
`FACTS_VERSION` went up with this revision, so the next `askel db upgrade` (or a start that
migrates) rebuilds them and fills the column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d9a2c7e4b18"
down_revision: str | None = "8e3b5d7f1a26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_facts") as batch:
        batch.add_column(sa.Column("family_visit", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit_facts") as batch:
        batch.drop_column("family_visit")
