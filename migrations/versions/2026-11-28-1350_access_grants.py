"""access grants

Revision ID: e74d06c420e7
Revises: 5c1e0a7d2b94
Create Date: 2026-11-28 13:50:02.328273
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e74d06c420e7"
down_revision: str | None = "5c1e0a7d2b94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_grants",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.Column("attested_by", sa.String(length=128), nullable=True),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("last_used_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counselling_services.id"],
            name=op.f("fk_access_grants_service_id_counselling_services"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    op.create_index("ix_access_grants_user_service", "access_grants", ["user_id", "service_id"])


def downgrade() -> None:
    op.drop_index("ix_access_grants_user_service", table_name="access_grants")

    op.drop_table("access_grants")
