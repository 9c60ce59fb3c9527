from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.patients.models import Patient


def by_hetu_hash(session: Session, hetu_hash: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.hetu_hash == hetu_hash))


def add(session: Session, patient: Patient) -> Patient:
    session.add(patient)
    session.flush()
    return patient


def get(session: Session, patient_id: uuid.UUID) -> Patient | None:
    return session.get(Patient, patient_id)


def by_ids(session: Session, patient_ids: Iterable[uuid.UUID]) -> list[Patient]:
    """The patients of the ids, in one query; an id no patient has finds none."""
    wanted = set(patient_ids)
    if not wanted:
        return []
    return list(session.scalars(select(Patient).where(Patient.id.in_(wanted))))
