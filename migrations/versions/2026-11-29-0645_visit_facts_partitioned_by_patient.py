"""visit facts partitioned by patient

Revision ID: 5ffdae6ed048
Revises: aa7b213ebe09
Create Date: 2026-11-29 06:45:00

On PostgreSQL `visit_facts` becomes a table partitioned by a hash of the patient (32
partitions); on SQLite only its key changes. The facts are derived data: the table is made
again empty, and forgetting the recorded build makes `askel db upgrade` (or a start that
migrates) rebuild them, after this revision and after its downgrade alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5ffdae6ed048"
down_revision: str | None = "aa7b213ebe09"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = sa.String(length=8).with_variant(sa.String(length=8, collation="C"), "postgresql")
PARTITIONS = 32


def _visit_facts(key: Sequence[str], **options: str) -> None:
    op.create_table(
        "visit_facts",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("contact_type", sa.SmallInteger(), nullable=True),
        sa.Column("counsellor_profession", sa.SmallInteger(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("municipality", CODE, nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("referrer_profession", sa.SmallInteger(), nullable=True),
        sa.Column("age_band", sa.SmallInteger(), nullable=False),
        sa.Column("sex", sa.SmallInteger(), nullable=True),
        sa.Column("language", CODE, nullable=True),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_visit_facts")),
        **options,
    )


def _drop_visit_facts() -> None:
    op.drop_index("ix_visit_facts_visited_on", table_name="visit_facts")
    op.drop_index("ix_visit_facts_referral_id", table_name="visit_facts")
    op.drop_table("visit_facts")  # on PostgreSQL its partitions with it


def _index_visit_facts() -> None:
    # On a partitioned table each partition gets its own.
    op.create_index("ix_visit_facts_referral_id", "visit_facts", ["referral_id"])
    op.create_index("ix_visit_facts_visited_on", "visit_facts", ["visited_on"])
    op.execute("DELETE FROM statistics_fact_builds")


def upgrade() -> None:
    _drop_visit_facts()
    _visit_facts(["visit_id", "patient_id"], postgresql_partition_by="HASH (patient_id)")
    if op.get_bind().dialect.name == "postgresql":
        for remainder in range(PARTITIONS):
            op.execute(
                f"CREATE TABLE visit_facts_p{remainder:02d} PARTITION OF visit_facts"
                f" FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
            )
    _index_visit_facts()


def downgrade() -> None:
    _drop_visit_facts()
    _visit_facts(["visit_id"])
    _index_visit_facts()
