from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.counselling.models import PlanVersion, Visit

# The tab's order: by day, then as first recorded (a correction in its original's place).
VISIT_ORDER = (Visit.visited_on, Visit.first_recorded_at, Visit.created_at)


def add(session: Session, record: Visit | PlanVersion) -> None:
    session.add(record)
    session.flush()


def visits(session: Session, referral_id: uuid.UUID) -> Sequence[Visit]:
    statement = select(Visit).where(Visit.referral_id == referral_id).order_by(*VISIT_ORDER)
    return session.scalars(statement).all()


def first_standing_visit_id(session: Session, referral_id: uuid.UUID) -> uuid.UUID | None:
    """The referral's first visit in the tab's order that no correction superseded."""
    statement = (
        select(Visit.id)
        .where(Visit.referral_id == referral_id, Visit.corrected.is_(False))
        .order_by(*VISIT_ORDER)
        .limit(1)
    )
    return session.scalar(statement)


def has_visit(session: Session, appointment_id: uuid.UUID) -> bool:
    """Whether a visit (or a correction of one) is recorded for the appointment."""
    statement = select(Visit.id).where(Visit.appointment_id == appointment_id).limit(1)
    return session.scalar(statement) is not None


def visit(session: Session, visit_id: uuid.UUID) -> Visit | None:
    return session.get(Visit, visit_id)


def plan(session: Session, referral_id: uuid.UUID, version: int | None) -> PlanVersion | None:
    statement = select(PlanVersion).where(PlanVersion.referral_id == referral_id)
    if version is not None:
        statement = statement.where(PlanVersion.version == version)
    return session.scalars(statement.order_by(PlanVersion.version.desc()).limit(1)).first()


def latest_plan_version(session: Session, referral_id: uuid.UUID) -> int:
    statement = select(func.max(PlanVersion.version)).where(PlanVersion.referral_id == referral_id)
    return session.scalar(statement) or 0
