"""Recording a visit: tied to an appointment still booked, it marks it attended (scheduling);
the first visit on an accepted referral puts the referral in progress (referrals)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.counselling import service as counselling
from app.counselling.models import Visit
from app.counselling.schemas import VisitIn
from app.referrals import service as referrals
from app.referrals.states import Action, Status
from app.scheduling import booking


def record_visit(
    session: Session, principal: Principal, referral_id: uuid.UUID, data: VisitIn, now: datetime
) -> Visit:
    """Record a visit; tied to an appointment, it marks it attended; the first visit on an
    accepted referral puts it in progress."""
    referral, appointment = counselling.visit_to_record(session, principal, referral_id, data)
    if appointment is not None and appointment.status == "booked":
        booking.mark(session, principal, appointment.id, "attended", now)
    if referral.status == Status.accepted:
        referrals.take(session, principal, referral.id, Action.start, referral.version)
    return counselling.add_visit(session, principal, referral, data, now)
