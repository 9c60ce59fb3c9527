"""referrals and the outbox

Revision ID: ed616fb06398
Revises: b45afd6f6260
Create Date: 2026-11-28 12:49:32.743552
"""

import datetime
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ed616fb06398"
down_revision: str | None = "b45afd6f6260"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The first reason lists; later changes are data (new rows, `valid_until` on old ones).
REASONS = [
    ("reject", "not_eligible", "Ei täytä liikuntaneuvonnan kriteerejä",
     "Uppfyller inte kriterierna för motionsrådgivning", "Does not meet the criteria for counselling"),
    ("reject", "outside_catchment", "Potilas ei kuulu palvelun alueelle",
     "Patienten hör inte till tjänstens område", "The patient lives outside the service's area"),
    ("reject", "duplicate", "Päällekkäinen lähete", "Dubblett av en remiss", "A duplicate referral"),
    ("reject", "other", "Muu syy", "Annan orsak", "Another reason"),
    ("return", "needs_physiotherapy_first", "Tarvitaan ensin fysioterapiaa",
     "Fysioterapi behövs först", "Needs physiotherapy first"),
    ("return", "needs_medical_assessment", "Tarvitaan ensin lääkärin arvio",
     "Läkarbedömning behövs först", "Needs a medical assessment first"),
    ("return", "insufficient_information", "Lähetteen tiedot eivät riitä",
     "Remissen saknar nödvändiga uppgifter", "The referral lacks necessary information"),
    ("return", "other", "Muu syy", "Annan orsak", "Another reason"),
    ("cancel", "patient_declined", "Potilas ei halua neuvontaa",
     "Patienten vill inte ha rådgivning", "The patient does not want counselling"),
    ("cancel", "patient_unreachable", "Potilasta ei tavoitettu",
     "Patienten kunde inte nås", "The patient could not be reached"),
    ("cancel", "patient_moved", "Potilas muutti pois alueelta",
     "Patienten har flyttat från området", "The patient moved away"),
    ("cancel", "health_changed", "Terveydentila muuttunut",
     "Hälsotillståndet har förändrats", "The patient's health has changed"),
    ("cancel", "service_unavailable", "Palvelu ei ole käytettävissä",
     "Tjänsten är inte tillgänglig", "The service is not available"),
    ("cancel", "entered_in_error", "Lähete tehty virheellisesti",
     "Remissen skrevs av misstag", "The referral was made in error"),
    ("cancel", "other", "Muu syy", "Annan orsak", "Another reason"),
    ("complete", "goals_met", "Tavoitteet saavutettiin", "Målen uppnåddes", "The goals were met"),
    ("complete", "goals_partly_met", "Tavoitteet saavutettiin osittain", "Målen uppnåddes delvis",
     "The goals were partly met"),
    ("complete", "goals_not_met", "Tavoitteita ei saavutettu", "Målen uppnåddes inte",
     "The goals were not met"),
    ("complete", "patient_ended", "Potilas lopetti neuvonnan", "Patienten avbröt rådgivningen",
     "The patient ended the counselling"),
    ("complete", "transferred", "Siirretty toiseen palveluun", "Överförd till en annan tjänst",
     "Transferred to another service"),
]  # fmt: skip


def _reason(kind: str, code: str, fi: str, sv: str, en: str) -> dict[str, object]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"askel:referral-reason:{kind}:{code}"),
        "kind": kind,
        "code": code,
        "text_fi": fi,
        "text_sv": sv,
        "text_en": en,
        "valid_from": datetime.date(2024, 1, 1),
        "valid_until": None,
    }


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("aggregate_type", sa.String(length=32), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    op.create_index(
        "ix_outbox_events_aggregate", "outbox_events", ["aggregate_type", "aggregate_id", "id"]
    )
    op.create_index(
        "ix_outbox_events_pending", "outbox_events", ["published_at", "next_attempt_at"]
    )

    reason_codes = op.create_table(
        "referral_reason_codes",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("text_fi", sa.String(length=200), nullable=False),
        sa.Column("text_sv", sa.String(length=200), nullable=False),
        sa.Column("text_en", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_reason_codes")),
        sa.UniqueConstraint(
            "kind", "code", "valid_from", name=op.f("uq_referral_reason_codes_kind_code_valid_from")
        ),
    )
    op.create_table(
        "referrals",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("referrer_subject", sa.String(length=128), nullable=False),
        sa.Column("referrer_name", sa.String(length=200), nullable=True),
        sa.Column("referrer_organisation", sa.String(length=64), nullable=False),
        sa.Column("referrer_profession", sa.String(length=32), nullable=True),
        sa.Column("reason_codes", sa.JSON(), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("exercise_restrictions", sa.Text(), nullable=True),
        sa.Column("risk_factors", sa.Text(), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("preferred_language", sa.String(length=8), nullable=False),
        sa.Column("contact_mode", sa.String(length=16), nullable=False),
        sa.Column("consent_to_counselling", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("booking_by_service", sa.Boolean(), nullable=False),
        sa.Column("expected_contact_by", sa.Date(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=16), nullable=True),
        sa.Column("status_reason_code", sa.String(length=64), nullable=True),
        sa.Column("status_reason_text", sa.Text(), nullable=True),
        sa.Column("outcome_summary", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_referrals_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_referrals_service_id_counselling_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_patient_id"), "referrals", ["patient_id"])
    op.create_index(
        "ix_referrals_referrer_organisation", "referrals", ["referrer_organisation", "created_at"]
    )
    op.create_index(
        "ix_referrals_referrer_subject", "referrals", ["referrer_subject", "created_at"]
    )
    op.create_index(
        "ix_referrals_service_worklist", "referrals", ["service_id", "priority", "created_at", "id"]
    )

    op.create_table(
        "referral_events",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_subject", sa.String(length=128), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("actor_roles", sa.String(length=200), nullable=False),
        sa.Column("actor_organisation", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_events_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    op.create_index(op.f("ix_referral_events_referral_id"), "referral_events", ["referral_id"])

    op.add_column(
        "counselling_services",
        sa.Column("contact_days_routine", sa.Integer(), server_default="14", nullable=False),
    )
    op.add_column(
        "counselling_services",
        sa.Column("contact_days_urgent", sa.Integer(), server_default="3", nullable=False),
    )
    op.bulk_insert(reason_codes, [_reason(*row) for row in REASONS])


def downgrade() -> None:
    op.drop_column("counselling_services", "contact_days_urgent")
    op.drop_column("counselling_services", "contact_days_routine")

    op.drop_index(op.f("ix_referral_events_referral_id"), table_name="referral_events")

    op.drop_table("referral_events")
    op.drop_index("ix_referrals_service_worklist", table_name="referrals")
    op.drop_index("ix_referrals_referrer_subject", table_name="referrals")
    op.drop_index("ix_referrals_referrer_organisation", table_name="referrals")
    op.drop_index(op.f("ix_referrals_patient_id"), table_name="referrals")

    op.drop_table("referrals")
    op.drop_table("referral_reason_codes")
    op.drop_index("ix_outbox_events_pending", table_name="outbox_events")
    op.drop_index("ix_outbox_events_aggregate", table_name="outbox_events")

    op.drop_table("outbox_events")
