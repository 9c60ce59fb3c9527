"""statistics facts

Revision ID: aa7b213ebe09
Revises: 0b0120ac73f5
Create Date: 2026-11-29 03:49:26

Empty tables: `askel db upgrade` (and a start that migrates) fills them afterwards, because
`statistics_fact_builds` has no row for the facts' definition yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "aa7b213ebe09"
down_revision: str | None = "0b0120ac73f5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = sa.String(length=8).with_variant(sa.String(length=8, collation="C"), "postgresql")


def _dimensions() -> list[sa.Column[object]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "visit_facts",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("contact_type", sa.SmallInteger(), nullable=True),
        sa.Column("counsellor_profession", sa.SmallInteger(), nullable=True),
        *_dimensions(),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_visit_facts")),
    )
    op.create_index("ix_visit_facts_referral_id", "visit_facts", ["referral_id"])
    op.create_index("ix_visit_facts_visited_on", "visit_facts", ["visited_on"])
    step = {"type_": sa.SmallInteger(), "nullable": False}
    op.create_table(
        "referral_facts",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        *[
            sa.Column(name, **step)
            for name in (
                "accepted",
                "rejected",
                "returned",
                "booked",
                "first_visit",
                "completed",
                "cancelled",
            )
        ],
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("no_show", sa.Integer(), nullable=False),
        sa.Column("wait_days", sa.Integer(), nullable=True),
        sa.Column("minutes_change", sa.Integer(), nullable=True),
        *_dimensions(),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referral_facts")),
    )
    op.create_index("ix_referral_facts_sent_at", "referral_facts", ["sent_at"])
    op.create_table(
        "statistics_fact_builds",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_statistics_fact_builds")),
    )


def downgrade() -> None:
    op.drop_table("statistics_fact_builds")
    op.drop_index("ix_referral_facts_sent_at", table_name="referral_facts")
    op.drop_table("referral_facts")
    op.drop_index("ix_visit_facts_visited_on", table_name="visit_facts")
    op.drop_index("ix_visit_facts_referral_id", table_name="visit_facts")
    op.drop_table("visit_facts")
