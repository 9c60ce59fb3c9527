from __future__ import annotations

import uuid
from collections.abc import Generator, Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.access.audit.models import AuditEvent

# One constant key for the PostgreSQL advisory lock that orders appends to the chain.
AUDIT_LOCK_KEY = 0x61736B656C  # "askel"


def lock_chain(session: Session) -> None:
    """Serialise appends until the transaction ends. SQLite writers are serialised already
    (every write transaction begins IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


def last_link(session: Session) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else None


def add_all(session: Session, events: list[AuditEvent]) -> None:
    session.add_all(events)
    session.flush()


def stream_in_order(session: Session, batch: int = 2000) -> Generator[AuditEvent]:
    """Every entry in chain order, fetched in batches; close the iterator when stopping early."""
    statement = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    result = session.scalars(statement)
    try:
        yield from result
    finally:
        result.close()


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def search(
    session: Session,
    *,
    patient_id: uuid.UUID | None = None,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Entries, newest first, filtered; `before_seq` pages backwards."""
    conditions = []
    if patient_id is not None:
        conditions.append(AuditEvent.patient_id == patient_id)
    if actor:
        conditions.append(AuditEvent.actor == actor)
    if action:
        conditions.append(AuditEvent.action == action)
    if outcome:
        conditions.append(AuditEvent.outcome == outcome)
    if start:
        conditions.append(AuditEvent.occurred_at >= start)
    if end:
        conditions.append(AuditEvent.occurred_at < end)
    if before_seq is not None:
        conditions.append(AuditEvent.seq < before_seq)
    statement = select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc()).limit(limit)
    return session.scalars(statement).all()
