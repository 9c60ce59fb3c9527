"""statistics facts follow the writes after commit

Revision ID: 27b54b7c8244
Revises: 5b2e8d0c7f13
Create Date: 2026-12-01 09:00:00

A write no longer makes the statistics facts again in its own transaction: it notes the
referrals it touched in `statistics_stale_referrals`, and the worker (or `askel serve`) makes
their facts again after commit. The facts stand as they are at this revision. Down, the notes
go; if any were waiting, the facts are forgotten as built, so that the version migrated down to
rebuilds them when it migrates (its writes keep them current from then on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "27b54b7c8244"
down_revision: str | None = "5b2e8d0c7f13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statistics_stale_referrals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_stale_referrals")),
    )
    op.create_index(
        "ix_statistics_stale_referrals_referral_id",
        "statistics_stale_referrals",
        ["referral_id"],
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM statistics_fact_builds WHERE EXISTS (SELECT 1 FROM statistics_stale_referrals)"
    )
    op.drop_index(
        "ix_statistics_stale_referrals_referral_id", table_name="statistics_stale_referrals"
    )
    op.drop_table("statistics_stale_referrals")
