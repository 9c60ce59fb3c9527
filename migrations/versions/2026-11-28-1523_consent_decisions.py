"""consent decisions

Revision ID: 57e0a7bf6990
Revises: e991319823a8
Create Date: 2026-11-28 15:23:50.228388
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "57e0a7bf6990"
down_revision: str | None = "e991319823a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_decisions",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("study", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_by_name", sa.String(length=200), nullable=True),
        sa.Column("recorded_by_organisation", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consent_decisions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_decisions")),
    )
    op.create_index(
        "ix_consent_decisions_patient", "consent_decisions", ["patient_id", "scope", "study"]
    )
    op.create_index(
        "ix_consent_decisions_study", "consent_decisions", ["scope", "study", "decided_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_consent_decisions_study", table_name="consent_decisions")
    op.drop_index("ix_consent_decisions_patient", table_name="consent_decisions")
    op.drop_table("consent_decisions")
