"""scheduling

Revision ID: 196e643b19ae
Revises: ed616fb06398
Create Date: 2026-11-28 13:04:06.448605
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "196e643b19ae"
down_revision: str | None = "ed616fb06398"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# No two booked appointments of one counsellor overlap, unless they share a group slot: the
# database's own rule, whatever the application does. PostgreSQL says it with an exclusion
# constraint (btree_gist gives GiST the `=` and `<>` of uuid); SQLite with triggers.
PG_NO_OVERLAP = """
ALTER TABLE appointments ADD CONSTRAINT ex_appointments_no_overlap EXCLUDE USING gist (
    counsellor_id WITH =,
    tstzrange(start_at, end_at) WITH &&,
    slot_id WITH <>
) WHERE (status = 'booked')
"""
_SQLITE_OVERLAP = """
    SELECT RAISE(ABORT, 'appointments overlap')
    WHERE EXISTS (
        SELECT 1 FROM appointments a
        WHERE a.counsellor_id = NEW.counsellor_id AND a.status = 'booked' AND a.id != NEW.id
          AND a.slot_id != NEW.slot_id AND a.start_at < NEW.end_at AND a.end_at > NEW.start_at
    );
"""
SQLITE_NO_OVERLAP = [
    "CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments "
    f"WHEN NEW.status = 'booked' BEGIN {_SQLITE_OVERLAP} END",
    "CREATE TRIGGER appointments_no_overlap_update BEFORE UPDATE ON appointments "
    f"WHEN NEW.status = 'booked' BEGIN {_SQLITE_OVERLAP} END",
]


def upgrade() -> None:
    op.create_table(
        "availability_exceptions",
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("visit_types", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("group_capacity", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["users.id"],
            name=op.f("fk_availability_exceptions_counsellor_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_exceptions")),
    )
    op.create_index(
        op.f("ix_availability_exceptions_counsellor_id"),
        "availability_exceptions",
        ["counsellor_id"],
    )

    op.create_table(
        "availability_rules",
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("visit_types", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("group_capacity", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["users.id"], name=op.f("fk_availability_rules_counsellor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rules")),
    )
    op.create_index(
        op.f("ix_availability_rules_counsellor_id"), "availability_rules", ["counsellor_id"]
    )

    op.create_table(
        "calendar_tokens",
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["users.id"], name=op.f("fk_calendar_tokens_counsellor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_tokens_token_hash")),
    )
    op.create_index(op.f("ix_calendar_tokens_counsellor_id"), "calendar_tokens", ["counsellor_id"])

    op.create_table(
        "slots",
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_type", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked_count", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("modes", sa.String(length=100), nullable=False),
        sa.Column("languages", sa.String(length=100), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "booked_count >= 0 AND booked_count <= capacity", name=op.f("ck_slots_within_capacity")
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["users.id"], name=op.f("fk_slots_counsellor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_slots_service_id_counselling_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint(
            "counsellor_id",
            "start_at",
            "visit_type",
            name=op.f("uq_slots_counsellor_id_start_at_visit_type"),
        ),
    )
    op.create_index("ix_slots_counsellor_time", "slots", ["counsellor_id", "start_at"])
    op.create_index("ix_slots_search", "slots", ["service_id", "start_at"])

    op.create_table(
        "appointments",
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_type", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_by", sa.String(length=128), nullable=False),
        sa.Column("cancelled_by", sa.String(length=16), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("late_cancellation", sa.Boolean(), nullable=True),
        sa.Column("rescheduled_to", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["users.id"], name=op.f("fk_appointments_counsellor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_appointments_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_to"],
            ["appointments.id"],
            name=op.f("fk_appointments_rescheduled_to_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_appointments_service_id_counselling_services"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_appointments_slot_id_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(
        "ix_appointments_counsellor_time", "appointments", ["counsellor_id", "start_at"]
    )
    op.create_index(op.f("ix_appointments_referral_id"), "appointments", ["referral_id"])
    op.create_index("ix_appointments_service_time", "appointments", ["service_id", "start_at"])
    op.create_index(op.f("ix_appointments_slot_id"), "appointments", ["slot_id"])

    op.create_table(
        "slot_holds",
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["users.id"], name=op.f("fk_slot_holds_counsellor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_slot_holds_slot_id_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_holds")),
    )
    op.create_index("ix_slot_holds_counsellor_time", "slot_holds", ["counsellor_id", "start_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(PG_NO_OVERLAP)
    else:
        for statement in SQLITE_NO_OVERLAP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE appointments DROP CONSTRAINT ex_appointments_no_overlap")
    else:
        op.execute("DROP TRIGGER appointments_no_overlap_insert")
        op.execute("DROP TRIGGER appointments_no_overlap_update")
    op.drop_index("ix_slot_holds_counsellor_time", table_name="slot_holds")

    op.drop_table("slot_holds")
    op.drop_index(op.f("ix_appointments_slot_id"), table_name="appointments")
    op.drop_index("ix_appointments_service_time", table_name="appointments")
    op.drop_index(op.f("ix_appointments_referral_id"), table_name="appointments")
    op.drop_index("ix_appointments_counsellor_time", table_name="appointments")

    op.drop_table("appointments")
    op.drop_index("ix_slots_search", table_name="slots")
    op.drop_index("ix_slots_counsellor_time", table_name="slots")

    op.drop_table("slots")
    op.drop_index(op.f("ix_calendar_tokens_counsellor_id"), table_name="calendar_tokens")

    op.drop_table("calendar_tokens")
    op.drop_index(op.f("ix_availability_rules_counsellor_id"), table_name="availability_rules")

    op.drop_table("availability_rules")
    op.drop_index(
        op.f("ix_availability_exceptions_counsellor_id"), table_name="availability_exceptions"
    )

    op.drop_table("availability_exceptions")
