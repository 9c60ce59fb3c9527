"""a patient's sex as the patient record has it, unknown where none is recorded

Revision ID: 3c7a9e2d5b14
Revises: 2f8c6a1d9e47
Create Date: 2026-12-03 09:00:00

The identity-code reform stops the individual number telling a person's sex for codes issued
after it, so Askel records the sex as the region's patient record or the registering clinician
states it: FHIR administrative gender (female, male, other, unknown), `unknown` where none is
given. Existing patients keep the sex they have. The downgrade restores the column as it was;
a patient registered since with `other` or `unknown` keeps that value, which nothing can turn
back into the identity code's reading without the code's key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c7a9e2d5b14"
down_revision: str | None = "2f8c6a1d9e47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.alter_column(
            "sex", existing_type=sa.String(8), existing_nullable=False, server_default="unknown"
        )


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.alter_column(
            "sex", existing_type=sa.String(8), existing_nullable=False, server_default=None
        )
