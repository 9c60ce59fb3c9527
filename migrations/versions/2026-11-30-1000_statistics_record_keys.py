"""statistics record keys for the cell key method

Revision ID: 7d1c4e9a2b60
Revises: 3c9e7b1f4a52
Create Date: 2026-11-30 10:00:00

Each visit, referral and patient counted gets a random record key, kept in
`statistics_record_keys`; the facts carry them, so that a cell's published count is perturbed
by its records' keys. The facts are derived data: they are emptied here, and forgetting the
recorded build makes `askel db upgrade` (or a start that migrates) rebuild them, giving every
record its key, after this revision and after its downgrade alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d1c4e9a2b60"
down_revision: str | None = "3c9e7b1f4a52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {"visit_facts": ("visit_key", "patient_key"), "referral_facts": ("referral_key",)}


def _forget_the_facts() -> None:
    for table in (*KEYS, "statistics_fact_builds"):
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    op.create_table(
        "statistics_record_keys",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("record_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_statistics_record_keys")),
    )
    _forget_the_facts()
    for table, columns in KEYS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(sa.Column(column, sa.SmallInteger(), nullable=False))


def downgrade() -> None:
    _forget_the_facts()
    for table, columns in KEYS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
    op.drop_table("statistics_record_keys")
