from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, Uuid
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


class AuditEvent(Base):
    """One access. Rows are only ever appended; each carries the HMAC of its predecessor's
    chain value, so an edited, deleted or reordered row breaks the chain."""

    __tablename__ = "audit_events"

    # Assigned gap-free under the audit lock, in chain order.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
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
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_patient_id_occurred_at", "patient_id", "occurred_at"),
        Index("ix_audit_events_actor_occurred_at", "actor", "occurred_at"),
    )
