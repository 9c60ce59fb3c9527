"""fhir links to resources the region owns

Revision ID: 5b2e8d0c7f13
Revises: 7d1c4e9a2b60
Create Date: 2026-11-30 11:00:00

A referral the region's system made (its ServiceRequest and Task) is published to those very
resources: Askel keeps a link to each, marked as the region's, and writes only its own elements
into them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b2e8d0c7f13"
down_revision: str | None = "7d1c4e9a2b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fhir_links") as table:
        table.add_column(
            sa.Column("region_owned", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("fhir_links") as table:
        table.drop_column("region_owned")
