"""referrer worklist indexes

Revision ID: 7c41d0b9e2a3
Revises: 5ffdae6ed048
Create Date: 2026-11-29 10:40:00

A clinician's worklist is the union of the referrals they sent and those of their unit, each
read in the list's order (priority, newest first): the referrer's two indexes gain the priority
and the id, as the service's worklist index has them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c41d0b9e2a3"
down_revision: str | None = "5ffdae6ed048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_referrals_referrer_organisation", table_name="referrals")
    op.drop_index("ix_referrals_referrer_id", table_name="referrals")
    op.create_index(
        "ix_referrals_organisation_worklist",
        "referrals",
        ["referrer_organisation", "priority", "created_at", "id"],
    )
    op.create_index(
        "ix_referrals_referrer_worklist",
        "referrals",
        ["referrer_id", "priority", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_referrer_worklist", table_name="referrals")
    op.drop_index("ix_referrals_organisation_worklist", table_name="referrals")
    op.create_index("ix_referrals_referrer_id", "referrals", ["referrer_id", "created_at"])
    op.create_index(
        "ix_referrals_referrer_organisation", "referrals", ["referrer_organisation", "created_at"]
    )
