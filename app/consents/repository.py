from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from app.consents.models import ConsentDecision
from app.counselling.models import Visit
from app.patients.models import Patient


def add(session: Session, decision: ConsentDecision) -> ConsentDecision:
    session.add(decision)
    session.flush()
    return decision


def of_patient(session: Session, patient_id: uuid.UUID) -> Sequence[ConsentDecision]:
    """Newest first: by the day decided, then by when it was recorded."""
    statement = (
        select(ConsentDecision)
        .where(ConsentDecision.patient_id == patient_id)
        .order_by(ConsentDecision.decided_on.desc(), ConsentDecision.created_at.desc())
    )
    return session.scalars(statement).all()


def _consenting(scope: str, study: str, on: date) -> Select[tuple[uuid.UUID]]:
    """The patients whose newest decision for the study on or before `on` is a consent."""
    newest = (
        select(
            ConsentDecision.patient_id,
            ConsentDecision.decision,
            func.row_number()
            .over(
                partition_by=ConsentDecision.patient_id,
                order_by=(ConsentDecision.decided_on.desc(), ConsentDecision.created_at.desc()),
            )
            .label("rank"),
        )
        .where(
            ConsentDecision.scope == scope,
            ConsentDecision.study == study,
            ConsentDecision.decided_on <= on,
        )
        .subquery()
    )
    return select(newest.c.patient_id).where(newest.c.rank == 1, newest.c.decision == "given")


def count_consenting(session: Session, scope: str, study: str, on: date) -> int:
    consenting = _consenting(scope, study, on).subquery()
    return session.scalar(select(func.count()).select_from(consenting)) or 0


def visits_of_consenting(
    session: Session, study: str, on: date, visited_from: date, visited_to: date
) -> Sequence[Row[Visit, Patient]]:
    """The current (uncorrected) visits in the period of the patients consenting to the study."""
    statement = (
        select(Visit, Patient)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(
            Visit.patient_id.in_(_consenting("research", study, on)),
            Visit.visited_on.between(visited_from, visited_to),
            Visit.corrected.is_(False),
        )
        .order_by(Visit.visited_on, Visit.id)
    )
    return session.execute(statement).all()
