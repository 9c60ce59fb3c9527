"""audit entries name the actor's issuer

Revision ID: 8e5a1c7d2b94
Revises: 3d9b7c2e41f0
Create Date: 2026-11-29 17:00:00

Usernames are unique only under the identity provider that vouches for them: each entry names
the issuer of its actor's account, and a token refused for its account is recorded with the
subject and issuer it claimed. Earlier entries have none, and keep their hashes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e5a1c7d2b94"
down_revision: str | None = "3d9b7c2e41f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("actor_issuer", sa.String(length=300)))


def downgrade() -> None:
    # Not in batch mode: remaking the table on SQLite would drop its append-only triggers.
    op.drop_column("audit_events", "actor_issuer")
