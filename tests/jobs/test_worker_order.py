"""The outbox goes out in order per aggregate: an event is not handled while an earlier one of
the same aggregate is unpublished, whether that one is waiting for a retry or in another
worker's hands; other aggregates' events go on meanwhile."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Connection

from app import db
from app.jobs import outbox
from app.jobs.models import OutboxEvent
from app.jobs.worker import run_once
from app.kit.clock import utcnow


def test_an_event_waits_while_an_earlier_one_of_its_aggregate_is_unpublished(
    connection: Connection,
) -> None:
    database = db.Database(connection)
    first_referral, second_referral = uuid.uuid4(), uuid.uuid4()
    with database.write_sessions() as session, session.begin():
        for aggregate, kind in ((first_referral, "order.sent"), (first_referral, "order.accepted"),
                                (second_referral, "order.sent")):  # fmt: skip
            outbox.enqueue(session, aggregate_type="order", aggregate_id=aggregate,
                           event_type=kind, payload={})  # fmt: skip
    handled: list[tuple[uuid.UUID, str]] = []
    refusals = [RuntimeError("the peer is down")]

    def publish(_session: object, event: OutboxEvent) -> None:
        handled.append((event.aggregate_id, event.event_type))
        if event.aggregate_id == first_referral and refusals:
            raise refusals.pop()

    now = utcnow()
    run_once(database, {"order.": publish}, now=now)
    # The first referral's first event failed and waits for its retry; its second waits too.
    assert handled == [(first_referral, "order.sent"), (second_referral, "order.sent")]
    run_once(database, {"order.": publish}, now=now + timedelta(hours=1))
    assert handled[2:] == [(first_referral, "order.sent"), (first_referral, "order.accepted")]
