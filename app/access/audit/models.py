from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Connection,
    FetchedValue,
    Index,
    Integer,
    String,
    Uuid,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, UTCDateTime


class AuditAction(StrEnum):
    create = "create"
    read = "read"
    update = "update"
    query = "query"
    disclose = "disclose"
    # A referral's transitions, each recorded as itself (tried and refused, or taken).
    accept = "accept"
    reject = "reject"
    return_ = "return"
    start = "start"
    complete = "complete"
    cancel = "cancel"
    book_by_service = "book_by_service"


TRANSITIONS = frozenset({AuditAction.accept, AuditAction.reject, AuditAction.return_,
                         AuditAction.start, AuditAction.complete, AuditAction.cancel,
                         AuditAction.book_by_service})  # fmt: skip


class AuditOutcome(StrEnum):
    success = "success"
    not_found = "not_found"
    refused = "refused"
    conflict = "conflict"


class AuditPurpose(StrEnum):
    """Why data was processed, by the role of the account (`Principal.purpose`)."""

    care = "care"
    counselling = "counselling"
    statistics = "statistics"
    research = "research"
    audit = "audit"


class AuditEvent(Base):
    """One access. Rows are only ever appended, in the transaction of the action they describe;
    the sealer later gives each its place in the log's Merkle tree (`AuditLeaf`).

    Entries written before the tree carry an HMAC chain (`prev_hash`, `hash`), which stays
    verifiable: they are the tree's first leaves, in chain order."""

    __tablename__ = "audit_events"

    # The entry's number, in the order entries were written (not gap-free: a rolled-back
    # transaction takes numbers too). Chain entries have theirs from the chain.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # On PostgreSQL, the writing transaction's id: the sealer takes entries in the order of
    # the transactions that wrote them, once no older transaction can still add one.
    xact: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128))
    actor_roles: Mapped[str | None] = mapped_column(String(200))
    actor_organisation: Mapped[str | None] = mapped_column(String(64))
    # Whose account the actor is: usernames are unique only under their issuer.
    actor_issuer: Mapped[str | None] = mapped_column(String(300))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(16))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    # Why the data was processed (Client Data Act 703/2023: care, counselling, statistics,
    # audit); any other purpose needs the client's consent.
    purpose: Mapped[str | None] = mapped_column(String(16))
    # For a disclosure, to whom (Client Data Act § 11: the client may ask).
    recipient: Mapped[str | None] = mapped_column(String(200))
    # The HMAC chain of the entries written before the Merkle tree; None after.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_patient_id_occurred_at", "patient_id", "occurred_at"),
        Index("ix_audit_events_actor_occurred_at", "actor", "occurred_at"),
        Index("ix_audit_events_xact", "xact", "seq"),
    )


# The writing transaction's id, filled in by PostgreSQL itself (`xid8`, as a bigint); the
# migration sets the same default.
XACT_DEFAULT = "(pg_current_xact_id()::text::bigint)"


@event.listens_for(AuditEvent.__table__, "after_create")
def _xact_default(_table: object, connection: Connection, **_: object) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(f"ALTER TABLE audit_events ALTER COLUMN xact SET DEFAULT {XACT_DEFAULT}")
        )


class AuditLeaf(Base):
    """An entry's place in the Merkle tree, given by the sealer: leaves are numbered from 0
    without gaps, each entry once."""

    __tablename__ = "audit_leaves"

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_seq: Mapped[int] = mapped_column(BigInteger, unique=True)


class AuditTreeNode(Base):
    """The hash of a complete subtree: level 0 are the leaves' hashes, level k the roots of
    subtrees of 2**k leaves, `position` counting them from the left."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class AuditTreeHead(Base):
    """A signed tree head: the tree's size and root at a moment, signed with a key kept
    outside the database (Ed25519). Exported heads (anchors) let anyone catch a rewritten past
    or a cut-off tail."""

    __tablename__ = "audit_tree_heads"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
