"""Writing to the outbox (nothing is sent inline: a worker publishes after commit), and what
waits in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.jobs.models import OutboxEvent
from app.kit.clock import utcnow
from app.kit.pagination import beyond


def enqueue(
    session: Session,
    *,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    due: datetime | None = None,
) -> OutboxEvent:
    """Add an event in the caller's transaction; it is published only if that commits, once
    `due` has come (at once without)."""
    now = utcnow()
    event = OutboxEvent(
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        event_type=event_type,
        payload=payload,
        created_at=now,
        next_attempt_at=due or now,
    )
    # Flushed with the transaction's next flush: a change's events go out as one statement.
    session.add(event)
    return event


def withdraw(
    session: Session, *, aggregate_type: str, aggregate_id: uuid.UUID, event_type: str
) -> int:
    """Take back the aggregate's events of this type that have not gone out (e.g. the reminder
    of a cancelled appointment), in the caller's transaction; the number withdrawn. One being
    handled by a worker right now is waited for, and then is no longer withdrawn."""
    statement = delete(OutboxEvent).where(
        OutboxEvent.aggregate_type == aggregate_type,
        OutboxEvent.aggregate_id == aggregate_id,
        OutboxEvent.event_type == event_type,
        OutboxEvent.published_at.is_(None),
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the outbox for one kind of aggregate (e.g. `referral`: the FHIR sync)."""

    aggregate_type: str
    pending: int
    failing: int
    dead_lettered: int
    oldest_pending_at: datetime | None


def backlog(session: Session) -> list[Backlog]:
    """One grouped query over the unpublished rows (the small, indexed hot set)."""
    waiting = OutboxEvent.dead_lettered_at.is_(None)
    statement = (
        select(
            OutboxEvent.aggregate_type,
            func.count().filter(waiting),
            func.count().filter(waiting, OutboxEvent.attempts > 0),
            func.count().filter(OutboxEvent.dead_lettered_at.is_not(None)),
            func.min(OutboxEvent.created_at).filter(waiting),
        )
        .where(OutboxEvent.published_at.is_(None))
        .group_by(OutboxEvent.aggregate_type)
    )
    return [Backlog(*row) for row in session.execute(statement)]


def replay_dead_letters(session: Session, now: datetime, event_ids: list[int] | None = None) -> int:
    """Give dead-lettered events a fresh start (all, or those named); the number replayed."""
    statement = (
        update(OutboxEvent)
        .where(OutboxEvent.dead_lettered_at.is_not(None), OutboxEvent.published_at.is_(None))
        .values(dead_lettered_at=None, attempts=0, next_attempt_at=now)
    )
    if event_ids:
        statement = statement.where(OutboxEvent.id.in_(event_ids))
    result = session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def dead_letters(
    session: Session, limit: int, after: tuple[datetime, int] | None = None
) -> list[OutboxEvent]:
    """The events given up on, newest first (after `after`: when given up on, id)."""
    statement = select(OutboxEvent).where(
        OutboxEvent.dead_lettered_at.is_not(None), OutboxEvent.published_at.is_(None)
    )
    if after is not None:
        given_up_at, event_id = after
        statement = statement.where(
            beyond(
                (OutboxEvent.dead_lettered_at, given_up_at, True), (OutboxEvent.id, event_id, True)
            )
        )
    statement = statement.order_by(
        OutboxEvent.dead_lettered_at.desc(), OutboxEvent.id.desc()
    ).limit(limit)
    return list(session.scalars(statement))
