"""visit statistics

Revision ID: 0b0120ac73f5
Revises: d76f69eb0f8b
Create Date: 2026-11-28 16:51:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0b0120ac73f5"
down_revision: str | None = "d76f69eb0f8b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("visits", sa.Column("counsellor_profession", sa.String(length=32), nullable=True))
    # Visits recorded before: the profession their counsellor's account has now.
    op.execute(
        "UPDATE visits SET counsellor_profession = (SELECT MIN(users.profession) FROM users"
        " WHERE users.username = visits.counsellor_subject)"
    )
    op.create_index("ix_visits_visited_on", "visits", ["visited_on"])


def downgrade() -> None:
    op.drop_index("ix_visits_visited_on", table_name="visits")
    with op.batch_alter_table("visits") as batch_op:
        batch_op.drop_column("counsellor_profession")
