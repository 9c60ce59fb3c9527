from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.kit.models import Base
from app.patients.models import Patient


def by_hetu_hash(session: Session, hetu_hash: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.hetu_hash == hetu_hash))


def by_temporary_hash(session: Session, temporary_hash: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.temporary_id_hash == temporary_hash))


def merged_into(session: Session, patient_id: uuid.UUID) -> list[uuid.UUID]:
    """The records merged into the patient's, whose history is theirs too."""
    statement = select(Patient.id).where(Patient.merged_into_id == patient_id).order_by(Patient.id)
    return list(session.scalars(statement))


def move_records(session: Session, source_id: uuid.UUID, target_id: uuid.UUID) -> None:
    """Every row that names the source patient names the target instead: each table with a
    foreign key to a patient, whichever domain keeps it (the patients' own table aside)."""
    for table in Base.metadata.sorted_tables:
        if table.name == Patient.__tablename__:
            continue
        for key in table.foreign_keys:
            if key.column.table.name == Patient.__tablename__:
                column = key.parent
                session.execute(
                    update(table).where(column == source_id).values({column.name: target_id})
                )


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


def known_now(session: Session, patient_id: uuid.UUID) -> Patient | None:
    """The patient of an id as known now: a record merged into another (their temporary one,
    when their code arrived) is that other."""
    patient = get(session, patient_id)
    while patient is not None and patient.merged_into_id is not None:
        patient = get(session, patient.merged_into_id)
    return patient
