"""Registering patients and finding them by personal identity code."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.errors import NotFound, RefusalContext
from app.patients import protection, repository
from app.patients.exceptions import HETU_REASONS, InvalidHetuError, PatientExists
from app.patients.hetu import Hetu, InvalidHetu, parse_hetu
from app.patients.models import Patient
from app.patients.schemas import PatientCreate

RESOURCE = "Patient"


def _parse(raw: str) -> Hetu:
    try:
        return parse_hetu(raw)
    except InvalidHetu as exc:
        raise InvalidHetuError(reason=HETU_REASONS[exc.reason]) from None


def _audit(
    session: Session, principal: Principal, action: AuditAction, patient_id: uuid.UUID
) -> None:
    audit.record(
        session,
        actor=principal,
        action=action,
        resource_type=RESOURCE,
        resource_id=patient_id,
        patient_id=patient_id,
    )


def _exists(patient: Patient) -> PatientExists:
    return PatientExists(
        extensions={"patient_id": str(patient.id)},
        refusal=RefusalContext(RESOURCE, str(patient.id), str(patient.id)),
    )


def register(session: Session, principal: Principal, data: PatientCreate) -> Patient:
    """Register a patient; the birth date comes from the identity code, the sex as stated."""
    hetu = _parse(data.hetu)
    hetu_hash = protection.lookup_hash(hetu)
    existing = repository.by_hetu_hash(session, hetu_hash)
    if existing is not None:
        raise _exists(existing)
    patient_id = uuid.uuid4()
    patient = Patient(
        id=patient_id,
        hetu_hash=hetu_hash,
        hetu_ciphertext=protection.seal(hetu, patient_id),
        birth_date=hetu.birth_date,
        sex=data.sex,
        given_name=data.given_name,
        family_name=data.family_name,
        home_municipality_code=data.home_municipality_code,
        language=data.language,
        phone=data.phone,
        security_prohibition=data.security_prohibition,
        created_by=principal.subject,
    )
    try:
        with session.begin_nested():
            repository.add(session, patient)
    except IntegrityError:
        # Someone registered the same code between our check and our insert.
        winner = repository.by_hetu_hash(session, hetu_hash)
        if winner is None:
            raise
        raise _exists(winner) from None
    _audit(session, principal, AuditAction.create, patient.id)
    return patient


def record_replay(session: Session, principal: Principal, patient_id: uuid.UUID) -> None:
    """A retried registration answers with the first answer again: that is a read."""
    _audit(session, principal, AuditAction.read, patient_id)


def read(session: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """A registered patient by id, for the person who found them or whose chart opened them;
    the read is audited. NotFound for an id no patient has."""
    patient = repository.get(session, patient_id)
    if patient is None:
        raise NotFound(refusal=RefusalContext(RESOURCE, str(patient_id)))
    _audit(session, principal, AuditAction.read, patient.id)
    return patient


def read_many(
    session: Session, principal: Principal, patient_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Patient]:
    """The registered patients of the ids by id, read at once (an id no patient has is left
    out); each patient read is an audited read, as `read`'s, written in one statement."""
    found = {patient.id: patient for patient in repository.by_ids(session, patient_ids)}
    audit.record_many(
        session,
        actor=principal,
        action=AuditAction.read,
        resource_type=RESOURCE,
        accesses=[(patient_id, patient_id) for patient_id in sorted(found)],
    )
    return found


def lookup(session: Session, principal: Principal, raw_hetu: str) -> Patient:
    """Find a registered patient by identity code; every look-up is audited, misses included."""
    hetu = _parse(raw_hetu)
    patient = repository.by_hetu_hash(session, protection.lookup_hash(hetu))
    if patient is None:
        raise NotFound(refusal=RefusalContext(RESOURCE))
    _audit(session, principal, AuditAction.query, patient.id)
    return patient


def find_or_register(
    session: Session, principal: Principal, data: PatientCreate
) -> tuple[Patient, bool]:
    """The patient with the identity code, and whether they were registered now.

    A patient Askel knows already is found as by `lookup` and keeps what Askel holds, except the
    security prohibition and a recorded sex: the region is the controller and its chart says
    whether the population register's non-disclosure order stands and what sex its record has, so
    a differing one is replaced (audited as an update); a chart recording no sex changes none.
    """
    try:
        return register(session, principal, data), True
    except PatientExists:
        # Known already, or registered by someone else between register's check and its insert:
        # its savepoint has undone our insert, and the look-up finds theirs.
        pass
    patient = lookup(session, principal, data.hetu)
    changed = patient.security_prohibition != data.security_prohibition
    patient.security_prohibition = data.security_prohibition
    if data.sex != "unknown" and patient.sex != data.sex:
        patient.sex, changed = data.sex, True
    if changed:
        session.flush()
        _audit(session, principal, AuditAction.update, patient.id)
    return patient, False
