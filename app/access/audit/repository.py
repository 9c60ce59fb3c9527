from __future__ import annotations

import uuid
from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

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


# Every column of an entry, in the table's order.
COLUMNS = tuple(AuditEvent.__table__.columns)


def stream_in_order(
    session: Session, batch: int = 2000
) -> Generator[tuple[AuditEvent, Sequence[Any]]]:
    """Every entry in chain order, fetched in batches, each with its columns as stored (the
    driver's values, before any type of ours reads them); close the iterator when stopping
    early."""
    stored = [type_coerce(column, NullType()).label(f"stored_{column.key}") for column in COLUMNS]
    statement = (
        select(AuditEvent, *stored).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    )
    result = session.execute(statement)
    try:
        for row in result:
            yield row[0], tuple(row[1:])
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
