"""a minor's guardians, who consented to a referral, and family visits

Revision ID: 8e3b5d7f1a26
Revises: 7c3e9a5b1d28
Create Date: 2026-12-02 11:00:00

A minor's guardians are recorded with the child (told of the child's appointments); a referral
says whether the patient or a guardian consented; a visit whether a guardian took part and
whether it was a family visit. Referrals and visits before carry the defaults: the patient
consented, no guardian, no family visit.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e3b5d7f1a26"
down_revision: str | None = "7c3e9a5b1d28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guardians",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("receives_notices", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_guardians_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardians")),
    )
    op.create_index(op.f("ix_guardians_patient_id"), "guardians", ["patient_id"])
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(
            sa.Column("consent_given_by", sa.String(8), server_default="patient", nullable=False)
        )
    with op.batch_alter_table("visits") as batch:
        batch.add_column(
            sa.Column("guardian_present", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("family_visit", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("family_visit")
        batch.drop_column("guardian_present")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("consent_given_by")
    op.drop_index(op.f("ix_guardians_patient_id"), table_name="guardians")
    op.drop_table("guardians")
