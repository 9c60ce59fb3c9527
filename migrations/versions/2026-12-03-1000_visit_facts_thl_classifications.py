"""THL's classifications on the visit facts: contact type, first visit or follow-up, occupation

Revision ID: 4f2b8c6d1e37
Revises: 3c7a9e2d5b14
Create Date: 2026-12-03 09:00:00

The statistics group visits by the codes THL's outpatient register (Avohilmo) reports them with.
The facts are derived data: the facts' definition version (`FACTS_VERSION`) went up with this
revision, so the next `askel db upgrade` (or a start that migrates) rebuilds them and fills the
new columns; after a downgrade, the older version finds a build that is not its own and
rebuilds too. Nothing needs emptying here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f2b8c6d1e37"
down_revision: str | None = "3c7a9e2d5b14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("thl_contact_type", "visit_order", "thl_occupation")


def upgrade() -> None:
    with op.batch_alter_table("visit_facts") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit_facts") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
