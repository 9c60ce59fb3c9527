"""initial schema

Revision ID: f23e608a55db
Revises:
Create Date: 2026-11-28 12:25:05.551406
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f23e608a55db"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The audit log is append-only in the database too: the application role cannot rewrite it.
# (An owner can still drop the triggers; the hash chain catches what they then change.)
PG_APPEND_ONLY = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
"""
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("actor_roles", sa.String(length=200), nullable=True),
        sa.Column("actor_organisation", sa.String(length=64), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_actor_occurred_at", "audit_events", ["actor", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_audit_events_patient_id_occurred_at",
        "audit_events",
        ["patient_id", "occurred_at"],
        unique=False,
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
    op.create_table(
        "organisations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_fi", sa.String(length=200), nullable=False),
        sa.Column("name_sv", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("municipality_code", sa.String(length=3), nullable=True),
        sa.Column("official_languages", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organisations.id"],
            name=op.f("fk_organisations_parent_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
        sa.UniqueConstraint("municipality_code", name=op.f("uq_organisations_municipality_code")),
    )
    op.create_table(
        "patients",
        sa.Column("hetu_hash", sa.String(length=64), nullable=False),
        sa.Column("hetu_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("home_municipality_code", sa.String(length=3), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("hetu_hash", name=op.f("uq_patients_hetu_hash")),
    )
    op.create_index(
        op.f("ix_patients_home_municipality_code"),
        "patients",
        ["home_municipality_code"],
        unique=False,
    )

    op.create_table(
        "counselling_services",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("municipality_id", sa.Uuid(), nullable=False),
        sa.Column("name_fi", sa.String(length=200), nullable=False),
        sa.Column("name_sv", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["organisations.id"],
            name=op.f("fk_counselling_services_municipality_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counselling_services")),
        sa.UniqueConstraint("code", name=op.f("uq_counselling_services_code")),
    )
    op.create_index(
        op.f("ix_counselling_services_municipality_id"),
        "counselling_services",
        ["municipality_id"],
        unique=False,
    )

    op.create_table(
        "service_catchments",
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("municipality_code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_service_catchments_service_id_counselling_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "service_id", "municipality_code", name=op.f("pk_service_catchments")
        ),
    )
    op.create_index(
        op.f("ix_service_catchments_municipality_code"),
        "service_catchments",
        ["municipality_code"],
        unique=False,
    )

    op.create_table(
        "users",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("profession", sa.String(length=32), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_users_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_users_service_id_counselling_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_organisation_id"), "users", ["organisation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_organisation_id"), table_name="users")

    op.drop_table("users")
    op.drop_index(op.f("ix_service_catchments_municipality_code"), table_name="service_catchments")

    op.drop_table("service_catchments")
    op.drop_index(
        op.f("ix_counselling_services_municipality_id"), table_name="counselling_services"
    )

    op.drop_table("counselling_services")
    op.drop_index(op.f("ix_patients_home_municipality_code"), table_name="patients")

    op.drop_table("patients")
    op.drop_table("organisations")
    op.drop_index("ix_audit_events_patient_id_occurred_at", table_name="audit_events")
    op.drop_index("ix_audit_events_actor_occurred_at", table_name="audit_events")

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.drop_table("audit_events")
