"""accounts belong to their issuer

Revision ID: 5c1e0a7d2b94
Revises: b887f9fb0b5a
Create Date: 2026-11-28 13:36:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a7d2b94"
down_revision: str | None = "b887f9fb0b5a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A username is unique only within its identity provider; existing accounts are the
    # development issuer's.
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("issuer", sa.String(length=200), server_default="askel-dev", nullable=False)
        )
        batch.drop_constraint("uq_users_username", type_="unique")
        batch.create_unique_constraint("uq_users_issuer_username", ["issuer", "username"])
    # Referrals name their referrer by account, not by a username another issuer may share.
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("referrer_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE referrals SET referrer_id = "
        "(SELECT users.id FROM users WHERE users.username = referrals.referrer_subject)"
    )
    with op.batch_alter_table("referrals") as batch:
        batch.alter_column("referrer_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key("fk_referrals_referrer_id_users", "users", ["referrer_id"], ["id"])
        batch.drop_index("ix_referrals_referrer_subject")
        batch.create_index("ix_referrals_referrer_id", ["referrer_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index("ix_referrals_referrer_id")
        batch.create_index("ix_referrals_referrer_subject", ["referrer_subject", "created_at"])
        batch.drop_constraint("fk_referrals_referrer_id_users", type_="foreignkey")
        batch.drop_column("referrer_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_issuer_username", type_="unique")
        batch.create_unique_constraint("uq_users_username", ["username"])
        batch.drop_column("issuer")
