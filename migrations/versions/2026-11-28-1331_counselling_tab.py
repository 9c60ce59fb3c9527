"""counselling tab

Revision ID: b887f9fb0b5a
Revises: 196e643b19ae
Create Date: 2026-11-28 13:31:06.966134
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b887f9fb0b5a"
down_revision: str | None = "196e643b19ae"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("support_agreed", sa.Text(), nullable=True),
        sa.Column("follow_up_months", sa.JSON(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("agreed_how", sa.String(length=16), nullable=False),
        sa.Column("author_subject", sa.String(length=128), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_plan_versions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_plan_versions_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint(
            "referral_id", "version", name=op.f("uq_plan_versions_referral_id_version")
        ),
    )
    op.create_table(
        "visits",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("counsellor_subject", sa.String(length=128), nullable=False),
        sa.Column("counsellor_name", sa.String(length=200), nullable=True),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("contact_type", sa.String(length=16), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("mvpa_days_per_week", sa.Integer(), nullable=True),
        sa.Column("mvpa_minutes_per_day", sa.Integer(), nullable=True),
        sa.Column("minutes_per_week", sa.Integer(), nullable=True),
        sa.Column("strength_days_per_week", sa.Integer(), nullable=True),
        sa.Column("sitting_hours_per_day", sa.Float(), nullable=True),
        sa.Column("stage_of_change", sa.String(length=20), nullable=True),
        sa.Column("barriers", sa.Text(), nullable=True),
        sa.Column("resources", sa.Text(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("waist_cm", sa.Float(), nullable=True),
        sa.Column("systolic_mmhg", sa.Integer(), nullable=True),
        sa.Column("diastolic_mmhg", sa.Integer(), nullable=True),
        sa.Column("fitness_test", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_visits_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_visits_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_visits_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_visits_service_id_counselling_services"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["visits.id"], name=op.f("fk_visits_supersedes_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index(op.f("ix_visits_patient_id"), "visits", ["patient_id"])
    op.create_index("ix_visits_referral", "visits", ["referral_id", "visited_on"])


def downgrade() -> None:
    op.drop_index("ix_visits_referral", table_name="visits")
    op.drop_index(op.f("ix_visits_patient_id"), table_name="visits")

    op.drop_table("visits")
    op.drop_table("plan_versions")
