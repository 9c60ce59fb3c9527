"""A referral moved on, and what follows from it in the other domains: completed, what came of
its counselling goes to the region with the completion; closed, its appointments still to come
are freed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.counselling import service as counselling
from app.jobs import outbox
from app.kit.clock import utcnow
from app.referrals import service as referrals
from app.referrals.models import Referral
from app.referrals.schemas import ReasonBody
from app.referrals.states import OPEN, Action, Status
from app.scheduling import booking
from app.scheduling.models import Appointment


@dataclass(frozen=True, slots=True)
class Transition:
    referral: Referral
    # Closing a referral cancels its appointments still to come: these.
    cancelled_appointments: list[Appointment]


def take(
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    action: Action,
    expected_version: int | None,
    body: ReasonBody | None = None,
) -> Transition:
    """Move a referral on by `action` under the referral service's rules. Completing it
    publishes its outcome; closing it cancels its appointments still to come, if the caller
    confirmed that in the body (without, the closing is refused with them listed)."""
    referral = referrals.take(session, principal, referral_id, action, expected_version, body)
    if action is Action.complete:
        _publish_outcome(session, referral)
    cancelled: list[Appointment] = []
    if Status(referral.status) not in OPEN:
        confirmed = body is not None and body.cancel_booked_appointments
        cancelled = booking.release_for_closed_referral(
            session, principal, referral, utcnow(), confirmed=confirmed
        )
    return Transition(referral, cancelled)


def _publish_outcome(session: Session, referral: Referral) -> None:
    """The closed loop: what came of the counselling goes to the region with the completion."""
    outbox.enqueue(
        session,
        aggregate_type="referral",
        aggregate_id=referral.id,
        event_type="referral.outcome",
        payload=counselling.outcome_of(session, referral).model_dump(mode="json"),
    )
