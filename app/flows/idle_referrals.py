"""Referrals left idle past their counselling period are closed: twelve months without a
counselling visit or any other step on the referral since it was accepted. The worker runs it
daily (and `askel referrals close-idle` once); a referral closed once is no longer open, so
running again closes nothing twice."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal, Role
from app.counselling.models import Visit
from app.kit.clock import HELSINKI, add_months, helsinki_midnight, utcnow
from app.referrals import events
from app.referrals.models import Referral, ReferralEvent
from app.referrals.states import COUNSELLING_PERIOD_EXPIRED, Status
from app.scheduling import booking

if TYPE_CHECKING:
    from app.db import Database

log = logging.getLogger(__name__)

COUNSELLING_PERIOD_MONTHS = 12
DAY_SECONDS = 24 * 60 * 60
# The counselling period runs once a referral is accepted.
IN_PERIOD = (Status.accepted, Status.in_progress)
CLOSER = Principal(
    subject="askel-idle-closure", organisation="askel", roles=frozenset({Role.integration}),
    issuer="askel",
)  # fmt: skip


def _idle_since(first_day: date) -> list[ColumnElement[bool]]:
    """No change to the referral, no step on it and no visit from the counselling period's first
    day on (a referral written without a step on its timeline, by a bulk load, is as recent as
    its last change): one query for every referral, not one per referral."""
    start = helsinki_midnight(first_day)
    step = select(ReferralEvent.id).where(
        ReferralEvent.referral_id == Referral.id, ReferralEvent.occurred_at >= start
    )
    visit = select(Visit.id).where(Visit.referral_id == Referral.id, Visit.visited_on >= first_day)
    return [Referral.updated_at < start, ~step.exists(), ~visit.exists()]


def close_idle(session: Session, now: datetime) -> list[uuid.UUID]:
    """Close each referral idle past its counselling period, with the coded reason; audited,
    noted on its timeline and published to the region as other closings are."""
    closed: list[uuid.UUID] = []
    first_day = add_months(now.astimezone(HELSINKI).date(), -COUNSELLING_PERIOD_MONTHS)
    # Locked, so that two workers closing at once do not both close one referral.
    idle = (
        select(Referral)
        .where(Referral.status.in_(IN_PERIOD), *_idle_since(first_day))
        .order_by(Referral.id)
        .with_for_update(skip_locked=True)
    )
    for referral in session.scalars(idle).all():
        current = Status(referral.status)
        referral.status = Status.cancelled
        referral.status_reason_code = COUNSELLING_PERIOD_EXPIRED
        referral.status_reason_text = None
        session.flush()
        events.record(
            session, CLOSER, referral, "cancel", current, reason_code=COUNSELLING_PERIOD_EXPIRED
        )
        audit.record(
            session,
            actor=CLOSER,
            action=AuditAction.cancel,
            resource_type="Referral",
            resource_id=referral.id,
            patient_id=referral.patient_id,
        )
        booking.release_for_closed_referral(session, CLOSER, referral, now, confirmed=True)
        closed.append(referral.id)
    return closed


def close_idle_daily(database: Database, stop: threading.Event) -> None:
    """Close the idle referrals now and then once a day until `stop` is set."""
    while not stop.is_set():
        try:
            with database.write_sessions() as session, session.begin():
                closed = close_idle(session, utcnow())
            log.info("closed idle referrals", extra={"referrals": len(closed)})
        except Exception:
            log.exception("closing idle referrals failed")
        stop.wait(DAY_SECONDS)
