from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.families.models import Guardian


def of_patient(session: Session, patient_id: uuid.UUID) -> Sequence[Guardian]:
    statement = select(Guardian).where(Guardian.patient_id == patient_id).order_by(Guardian.name)
    return session.scalars(statement).all()


def replace(session: Session, patient_id: uuid.UUID, guardians: list[Guardian]) -> None:
    session.execute(delete(Guardian).where(Guardian.patient_id == patient_id))
    session.add_all(guardians)
    session.flush()
