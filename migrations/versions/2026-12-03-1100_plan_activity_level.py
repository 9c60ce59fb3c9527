"""activity plans record the weekly level in the national recommendation's terms

Revision ID: 7c3e9a5b1d28
Revises: 4f2b8c6d1e37
Create Date: 2026-12-03 09:00:00

Moderate and vigorous minutes a week apart, days of muscle strengthening, hours of sitting and
how sitting is to be broken up: all nullable, so plans saved before stay as they were.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e9a5b1d28"
down_revision: str | None = "4f2b8c6d1e37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("moderate_minutes_per_week", sa.Integer()),
    ("vigorous_minutes_per_week", sa.Integer()),
    ("strength_days_per_week", sa.Integer()),
    ("sitting_hours_per_day", sa.Float()),
    ("sitting_break_goal", sa.String(200)),
)


def upgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
