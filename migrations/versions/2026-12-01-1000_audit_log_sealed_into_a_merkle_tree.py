"""the audit log sealed into a Merkle tree after commit

Revision ID: 9e4f2a7c1d85
Revises: 27b54b7c8244
Create Date: 2026-12-01 10:00:00

Entries are now plain inserts numbered by the database (`seq` gets a default), with the writing
transaction's id (`xact`, PostgreSQL) so that the sealer can take them in a stable order; the
HMAC chain (`prev_hash`, `hash`) is kept for the entries written before, which the sealer makes
the tree's first leaves. Leaves, the tree's complete subtrees and the signed heads get tables of
their own, append-only like the entries.

The downgrade turns every entry back into a link of the HMAC chain, in tree order (sealed
entries first, then the rest as written), under the same key.
"""

import hashlib
import hmac
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4f2a7c1d85"
down_revision: str | None = "27b54b7c8244"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

XACT_DEFAULT = "(pg_current_xact_id()::text::bigint)"
APPEND_ONLY_TABLES = ("audit_events", "audit_leaves", "audit_tree_nodes", "audit_tree_heads")
NEW_TABLES = APPEND_ONLY_TABLES[1:]


PG_APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$
"""
PG_CHAIN_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$
"""


def _pg_append_only(table: str, function: str = "audit_log_append_only") -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def _sqlite_append_only(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ]


def _drop_append_only(table: str, postgresql: bool) -> None:
    if postgresql:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def _add_append_only(table: str, postgresql: bool) -> None:
    if postgresql:
        op.execute(_pg_append_only(table))
    else:
        for statement in _sqlite_append_only(table):
            op.execute(statement)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _drop_append_only("audit_events", postgresql)
    if postgresql:
        op.execute("DROP FUNCTION audit_events_append_only()")
        op.execute(PG_APPEND_ONLY_FUNCTION)
    with op.batch_alter_table("audit_events") as table:
        table.alter_column(
            "seq",
            existing_type=sa.BigInteger(),
            type_=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        )
        table.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        table.alter_column("hash", existing_type=sa.String(64), nullable=True)
        table.add_column(sa.Column("xact", sa.BigInteger(), nullable=True))
        table.create_index("ix_audit_events_xact", ["xact", "seq"])
    if postgresql:
        op.execute("CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq")
        op.execute(
            "SELECT setval('audit_events_seq_seq', "
            "COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false)"
        )
        op.execute(
            "ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')"
        )
        op.execute(f"ALTER TABLE audit_events ALTER COLUMN xact SET DEFAULT {XACT_DEFAULT}")
    op.create_table(
        "audit_leaves",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_audit_leaves")),
        sa.UniqueConstraint("entry_seq", name=op.f("uq_audit_leaves_entry_seq")),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_audit_tree_nodes")),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_tree_heads")),
    )
    for table_name in APPEND_ONLY_TABLES:
        _add_append_only(table_name, postgresql)


def _chain_key() -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from app.config import get_settings

    secret = get_settings().audit_key.get_secret_value()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"askel audit chain v1")
    return hkdf.derive(secret.encode())


def _chain_hash(key: bytes, prev_hash: str, seq: int, row: sa.Row) -> str:
    """The chain's HMAC as the entries before the tree had it (a frozen format)."""
    occurred_at = row.occurred_at
    if isinstance(occurred_at, str):  # SQLite keeps the text written
        from datetime import datetime

        occurred_at = datetime.fromisoformat(occurred_at)
    fields: list[object] = [
        seq, occurred_at.isoformat(), row.request_id, row.actor, row.actor_roles,
        row.actor_organisation, str(row.patient_id) if row.patient_id else None, row.action,
        row.resource_type, row.resource_id, row.outcome,
    ]  # fmt: skip
    if row.purpose is not None:
        fields.append(row.purpose)
    if row.recipient is not None:
        fields.append({"recipient": row.recipient})
    if row.actor_issuer is not None:
        fields.append({"issuer": row.actor_issuer})
    message = prev_hash + json.dumps(fields, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _relink_as_a_chain(connection: sa.Connection) -> None:
    """Every entry a link of the HMAC chain again, numbered 1.. in tree order."""
    rows = connection.execute(
        sa.text(
            "SELECT e.* FROM audit_events e LEFT JOIN audit_leaves l ON l.entry_seq = e.seq "
            "ORDER BY l.position IS NULL, l.position, e.seq"
        )
    ).all()
    if not rows:
        return
    connection.execute(sa.text("UPDATE audit_events SET seq = -seq"))
    key, prev_hash = _chain_key(), "0" * 64
    for number, row in enumerate(rows, start=1):
        chain_hash = _chain_hash(key, prev_hash, number, row)
        connection.execute(
            sa.text("UPDATE audit_events SET seq = :new, prev_hash = :prev, hash = :hash "
                    "WHERE seq = :old"),
            {"new": number, "prev": prev_hash, "hash": chain_hash, "old": -row.seq},
        )  # fmt: skip
        prev_hash = chain_hash


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table_name in APPEND_ONLY_TABLES:
        _drop_append_only(table_name, postgresql)
    _relink_as_a_chain(op.get_bind())
    for table_name in reversed(NEW_TABLES):
        op.drop_table(table_name)
    if postgresql:
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_events_seq_seq")
    with op.batch_alter_table("audit_events") as table:
        table.drop_index("ix_audit_events_xact")
        table.drop_column("xact")
        table.alter_column("hash", existing_type=sa.String(64), nullable=False)
        table.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        table.alter_column(
            "seq",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            type_=sa.BigInteger(),
        )
    if postgresql:
        op.execute("DROP FUNCTION audit_log_append_only()")
        op.execute(PG_CHAIN_FUNCTION)
        op.execute(_pg_append_only("audit_events", "audit_events_append_only"))
    else:
        _add_append_only("audit_events", postgresql)
