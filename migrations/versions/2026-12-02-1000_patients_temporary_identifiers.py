"""patients known by the region's temporary identifier, merged when their code arrives

Revision ID: 2f8c6a1d9e47
Revises: 6b1d4e8a2f90
Create Date: 2026-12-02 10:00:00

Someone without a personal identity code yet is registered under the region's temporary
identifier (kept as the code is: a keyed hash and a ciphertext); the code may come later. A
record merged into another keeps its row, pointing to the one it became.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2f8c6a1d9e47"
down_revision: str | None = "6b1d4e8a2f90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.alter_column("hetu_hash", existing_type=sa.String(64), nullable=True)
        batch.alter_column("hetu_ciphertext", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("temporary_id_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("temporary_id_ciphertext", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch.create_unique_constraint(op.f("uq_patients_temporary_id_hash"), ["temporary_id_hash"])
        batch.create_foreign_key(
            op.f("fk_patients_merged_into_id_patients"), "patients", ["merged_into_id"], ["id"]
        )
        batch.create_check_constraint(
            op.f("ck_patients_identified"), "hetu_hash IS NOT NULL OR temporary_id_hash IS NOT NULL"
        )


def downgrade() -> None:
    # Patients known only by a temporary identifier cannot be kept without a code: a downgrade
    # with any of them refuses rather than lose them.
    bind = op.get_bind()
    unidentified = bind.execute(
        sa.text("SELECT count(*) FROM patients WHERE hetu_hash IS NULL")
    ).scalar_one()
    if unidentified:
        raise RuntimeError(
            f"{unidentified} patients have no personal identity code; they would be lost"
        )
    with op.batch_alter_table("patients") as batch:
        batch.drop_constraint(op.f("ck_patients_identified"), type_="check")
        batch.drop_constraint(op.f("fk_patients_merged_into_id_patients"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_patients_temporary_id_hash"), type_="unique")
        batch.drop_column("merged_into_id")
        batch.drop_column("temporary_id_ciphertext")
        batch.drop_column("temporary_id_hash")
        batch.alter_column("hetu_ciphertext", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("hetu_hash", existing_type=sa.String(64), nullable=False)
