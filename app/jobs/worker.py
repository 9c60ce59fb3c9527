"""The outbox worker: claims due events, hands each to the handler for its kind, and retries
failures with exponential backoff and jitter until they are dead-lettered.

Several workers may run at once on PostgreSQL: claiming uses `FOR UPDATE SKIP LOCKED`, so no
event is handled by two of them, and an event is claimed only after every earlier one of its
aggregate is published, so each aggregate's events go out in order. Delivery is at least once;
handlers make re-sends harmless.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from app.db import Database
from app.jobs.errors import PermanentFailure
from app.jobs.models import OutboxEvent
from app.kit.clock import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Session, OutboxEvent], None]
MAX_ATTEMPTS = 8
BACKOFF_CAP = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 ... seconds, capped, with up to half of it as jitter so retries spread out."""
    base = min(timedelta(seconds=2**attempts), BACKOFF_CAP)
    return base / 2 + base / 2 * random.random()


def _claim(session: Session, prefixes: list[str], now: datetime, limit: int) -> list[OutboxEvent]:
    # An event waits while an earlier one of its aggregate is unpublished (being handled by
    # another worker, waiting for a retry, or dead-lettered): each referral's events reach the
    # peer in the order they happened, and never two of them at once. An earlier event
    # scheduled for later and not yet tried (a reminder due the day before a visit) holds
    # nothing back: what is due now goes now, and order holds among what is due.
    earlier = aliased(OutboxEvent)
    earlier_unpublished = (
        select(earlier.id)
        .where(
            earlier.aggregate_type == OutboxEvent.aggregate_type,
            earlier.aggregate_id == OutboxEvent.aggregate_id,
            earlier.id < OutboxEvent.id,
            earlier.published_at.is_(None),
            or_(earlier.next_attempt_at <= now, earlier.attempts > 0),
        )
        .exists()
    )
    statement = (
        select(OutboxEvent)
        .where(
            OutboxEvent.published_at.is_(None),
            OutboxEvent.dead_lettered_at.is_(None),
            OutboxEvent.next_attempt_at <= now,
            or_(*[OutboxEvent.event_type.startswith(prefix) for prefix in prefixes]),
            ~earlier_unpublished,
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def run_once(
    database: Database,
    handlers: Mapping[str, Handler],
    *,
    batch: int = 50,
    now: datetime | None = None,
) -> int:
    """Handle up to `batch` due events, each in a transaction of its own (so that the locks a
    handler takes are held for one event, never across the network calls of the next); the
    number handled, succeeded or failed."""
    handled = 0
    for _ in range(batch):
        # Each event's own moment: when it was published (or failed) is when it happened.
        moment = now or utcnow()
        with database.write_sessions() as session, session.begin():
            claimed = _claim(session, list(handlers), moment, 1)
            if not claimed:
                break
            event = claimed[0]
            handler = next(
                h for prefix, h in handlers.items() if event.event_type.startswith(prefix)
            )
            try:
                with session.begin_nested():
                    handler(session, event)
            except Exception as error:
                _failed(event, error, moment)
            else:
                event.published_at = moment
        handled += 1
    return handled


def _failed(event: OutboxEvent, error: Exception, now: datetime) -> None:
    event.attempts += 1
    event.last_error = f"{type(error).__name__}: {error}"[:1000]
    if event.attempts >= MAX_ATTEMPTS or isinstance(error, PermanentFailure):
        event.dead_lettered_at = now
        log.error(
            "outbox event dead-lettered", extra={"event_id": event.id, "type": event.event_type}
        )
    else:
        event.next_attempt_at = now + backoff(event.attempts)
        log.warning("outbox event failed", extra={"event_id": event.id, "type": event.event_type})


def run_forever(
    database: Database,
    handlers: Mapping[str, Handler],
    stop: threading.Event,
    *,
    poll_seconds: float = 1.0,
) -> None:
    while not stop.is_set():
        try:
            handled = run_once(database, handlers)
        except Exception:
            log.exception("worker batch failed")
            handled = 0
        if not handled:
            stop.wait(poll_seconds)
