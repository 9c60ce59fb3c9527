"""visits keep their place when corrected

Revision ID: 3d9b7c2e41f0
Revises: 7c41d0b9e2a3
Create Date: 2026-11-29 16:00:00

A visit's place among the visits of a day was its creation time, so a correction made later
sorted after the visits recorded meanwhile and turned the first and last assessments round.
Each visit now keeps the time it was first recorded, a correction its original's: originals
take their creation time, corrections their original's, chain by chain.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d9b7c2e41f0"
down_revision: str | None = "7c41d0b9e2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("visits", sa.Column("first_recorded_at", sa.DateTime(timezone=True)))
    connection = op.get_bind()
    connection.execute(
        sa.text("UPDATE visits SET first_recorded_at = created_at WHERE supersedes_id IS NULL")
    )
    # Corrections of corrections: each pass reaches one link further down every chain.
    while connection.execute(
        sa.text(
            "UPDATE visits SET first_recorded_at = ("
            " SELECT original.first_recorded_at FROM visits AS original"
            " WHERE original.id = visits.supersedes_id)"
            " WHERE first_recorded_at IS NULL AND supersedes_id IN ("
            " SELECT id FROM visits AS done WHERE done.first_recorded_at IS NOT NULL)"
        )
    ).rowcount:
        pass
    with op.batch_alter_table("visits") as batch:
        batch.alter_column("first_recorded_at", nullable=False)
        batch.drop_index("ix_visits_referral")
        batch.create_index("ix_visits_referral", ["referral_id", "visited_on", "first_recorded_at"])


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_index("ix_visits_referral")
        batch.create_index("ix_visits_referral", ["referral_id", "visited_on"])
        batch.drop_column("first_recorded_at")
