"""fhir links

Revision ID: d425f809da63
Revises: 57e0a7bf6990
Create Date: 2026-11-28 15:38:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d425f809da63"
down_revision: str | None = "57e0a7bf6990"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fhir_links",
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("askel_key", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("peer_id", sa.String(length=64), nullable=False),
        sa.Column("peer_version", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_links")),
        sa.UniqueConstraint(
            "resource_type", "askel_key", name=op.f("uq_fhir_links_resource_type_askel_key")
        ),
    )
    op.create_index("ix_fhir_links_referral", "fhir_links", ["referral_id"])


def downgrade() -> None:
    op.drop_index("ix_fhir_links_referral", table_name="fhir_links")
    op.drop_table("fhir_links")
