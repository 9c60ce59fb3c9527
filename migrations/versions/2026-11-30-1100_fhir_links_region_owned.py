"""fhir links to resources the region owns, and region Tasks refused

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
    op.create_table(
        "fhir_refusals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("task_reference", sa.String(200), nullable=False, unique=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("first_refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_refused_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_fhir_refusals_last", "fhir_refusals", ["last_refused_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_fhir_refusals_last", table_name="fhir_refusals")
    op.drop_table("fhir_refusals")
    with op.batch_alter_table("fhir_links") as table:
        table.drop_column("region_owned")
