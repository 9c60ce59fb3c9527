"""the national registers' identifiers of organisations, services and professionals

Revision ID: 6b1d4e8a2f90
Revises: 9e4f2a7c1d85
Create Date: 2026-12-02 09:00:00

Kanta and the Finnish base profiles name an organisation or a service unit by its OID in THL's
SOTE organisation register, and a professional by their number in Valvira's register of
health-care professionals (Terhikki). Askel keeps each where the directory knows it; none is
known for what was there before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b1d4e8a2f90"
down_revision: str | None = "9e4f2a7c1d85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("oid", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_organisations_oid"), ["oid"])
    with op.batch_alter_table("counselling_services") as batch:
        batch.add_column(sa.Column("oid", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_counselling_services_oid"), ["oid"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("register_number", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("register_number")
    with op.batch_alter_table("counselling_services") as batch:
        batch.drop_constraint(op.f("uq_counselling_services_oid"), type_="unique")
        batch.drop_column("oid")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint(op.f("uq_organisations_oid"), type_="unique")
        batch.drop_column("oid")
