"""one correction per visit

Revision ID: 8b1aa45dc5de
Revises: e74d06c420e7
Create Date: 2026-11-28 13:53:27.559321
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8b1aa45dc5de"
down_revision: str | None = "e74d06c420e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_visits_supersedes_id"), ["supersedes_id"])


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visits_supersedes_id"), type_="unique")
