"""Registering patients and finding them by personal identity code or, for someone without
one yet, by the region's temporary identifier; taking the code when it arrives."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.errors import NotFound, RefusalContext
from app.patients import protection, repository
from app.patients.exceptions import (
    HETU_REASONS,
    AnotherIdentityCode,
    InvalidHetuError,
    PatientExists,
)
from app.patients.hetu import Hetu, InvalidHetu, parse_hetu
from app.patients.models import Patient
from app.patients.schemas import PatientCreate, PatientIdentify
from app.patients.temporary_ids import TemporaryId

RESOURCE = "Patient"


def _parse(raw: str) -> Hetu:
    try:
        return parse_hetu(raw)
    except InvalidHetu as exc:
        raise InvalidHetuError(reason=HETU_REASONS[exc.reason]) from None


def _exists(patient: Patient) -> PatientExists:
    return PatientExists(
        extensions={"patient_id": str(patient.id)},
        refusal=RefusalContext(RESOURCE, str(patient.id), str(patient.id)),
    )


def _known(session: Session, hetu_hash: str | None, temporary_hash: str | None) -> Patient | None:
    """The patient with the code, else the one with the temporary identifier (as the record it
    was merged into, if it was)."""
    found = repository.by_hetu_hash(session, hetu_hash) if hetu_hash else None
    if found is None and temporary_hash:
        found = repository.by_temporary_hash(session, temporary_hash)
    return _current(session, found)


def _current(session: Session, patient: Patient | None) -> Patient | None:
    return repository.known_now(session, patient.id) if patient is not None else None


def register(session: Session, principal: Principal, data: PatientCreate) -> Patient:
    """Register a patient: by identity code, which gives the birth date; or, for someone without
    one yet, by the region's temporary identifier with the birth date given. The sex is as
    stated (the identity code no longer tells it)."""
    hetu = _parse(data.hetu) if data.hetu is not None else None
    hetu_hash = protection.lookup_hash(hetu) if hetu else None
    temporary = data.temporary_id
    temporary_hash = protection.temporary_lookup_hash(temporary) if temporary else None
    existing = _known(session, hetu_hash, temporary_hash)
    if existing is not None:
        raise _exists(existing)
    patient_id = uuid.uuid4()
    birth_date = hetu.birth_date if hetu else data.birth_date
    # PatientCreate's rule: without a code, the birth date is given.
    assert birth_date is not None
    patient = Patient(
        id=patient_id,
        hetu_hash=hetu_hash,
        hetu_ciphertext=protection.seal(hetu, patient_id) if hetu else None,
        temporary_id_hash=temporary_hash,
        temporary_id_ciphertext=(
            protection.seal_temporary(temporary, patient_id) if temporary else None
        ),
        birth_date=birth_date,
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
        winner = _known(session, hetu_hash, temporary_hash)
        if winner is None:
            raise
        raise _exists(winner) from None
    audit.record_on_patient(session, principal, AuditAction.create, RESOURCE, patient.id)
    return patient


def record_replay(session: Session, principal: Principal, patient_id: uuid.UUID) -> None:
    """A retried registration answers with the first answer again: that is a read."""
    audit.record_on_patient(session, principal, AuditAction.read, RESOURCE, patient_id)


def read(session: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """A registered patient by id, for the person who found them or whose chart opened them;
    the read is audited. NotFound for an id no patient has."""
    patient = repository.get(session, patient_id)
    if patient is None:
        raise NotFound(refusal=RefusalContext(RESOURCE, str(patient_id)))
    audit.record_on_patient(session, principal, AuditAction.read, RESOURCE, patient.id)
    return patient


def read_current(session: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """A registered patient by id as known now: a record merged into another (their temporary
    one, when their code arrived) is read as that other; audited as `read`'s."""
    current = repository.known_now(session, patient_id)
    if current is None:
        raise NotFound(refusal=RefusalContext(RESOURCE, str(patient_id)))
    audit.record_on_patient(session, principal, AuditAction.read, RESOURCE, current.id)
    return current


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
    return _found(
        session, principal, repository.by_hetu_hash(session, protection.lookup_hash(hetu))
    )


def lookup_temporary(session: Session, principal: Principal, identifier: TemporaryId) -> Patient:
    """Find a patient by the temporary identifier they were registered under, also after their
    code arrived (as the record they became); audited as `lookup`."""
    found = repository.by_temporary_hash(session, protection.temporary_lookup_hash(identifier))
    return _found(session, principal, _current(session, found))


def _found(session: Session, principal: Principal, patient: Patient | None) -> Patient:
    if patient is None:
        raise NotFound(refusal=RefusalContext(RESOURCE))
    audit.record_on_patient(session, principal, AuditAction.query, RESOURCE, patient.id)
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
    patient = _found(session, principal, _known(session, *_hashes(data)))
    changed = patient.security_prohibition != data.security_prohibition
    patient.security_prohibition = data.security_prohibition
    if data.sex != "unknown" and patient.sex != data.sex:
        patient.sex, changed = data.sex, True
    if changed:
        session.flush()
        audit.record_on_patient(session, principal, AuditAction.update, RESOURCE, patient.id)
    return patient, False


def _hashes(data: PatientCreate) -> tuple[str | None, str | None]:
    hetu_hash = protection.lookup_hash(_parse(data.hetu)) if data.hetu is not None else None
    temporary = data.temporary_id
    return hetu_hash, protection.temporary_lookup_hash(temporary) if temporary else None


@dataclass(frozen=True, slots=True)
class Identified:
    """The patient as they are known now that their code has arrived, and the record made under
    the temporary identifier if it was merged into theirs (None when it took the code itself)."""

    patient: Patient
    merged: Patient | None = None
    # Whether anything changed (False when asked again).
    changed: bool = True


def identify(session: Session, principal: Principal, data: PatientIdentify) -> Identified:
    """The personal identity code of someone registered under a temporary identifier.

    Where no patient has the code, their record takes it (and the birth date it gives).
    Where one does (registered by code meanwhile), the temporary record is merged into it: the
    temporary one keeps its row and its audit trail, pointing to the other, and everything that
    named it names the other. Asked again, it answers as the first time."""
    hetu = _parse(data.hetu)
    hetu_hash = protection.lookup_hash(hetu)
    found = repository.by_temporary_hash(
        session, protection.temporary_lookup_hash(data.temporary_id)
    )
    if found is None:
        raise NotFound(refusal=RefusalContext(RESOURCE))
    current = _current(session, found)
    assert current is not None
    if current.hetu_hash == hetu_hash:
        audit.record_on_patient(session, principal, AuditAction.read, RESOURCE, current.id)
        return Identified(current, changed=False)
    if current.hetu_hash is not None:
        raise AnotherIdentityCode(
            refusal=RefusalContext(RESOURCE, str(current.id), str(current.id))
        )
    known = repository.by_hetu_hash(session, hetu_hash)
    if known is None:
        current.hetu_hash = hetu_hash
        current.hetu_ciphertext = protection.seal(hetu, current.id)
        current.birth_date = hetu.birth_date
        session.flush()
        audit.record_on_patient(session, principal, AuditAction.update, RESOURCE, current.id)
        return Identified(current)
    current.merged_into_id = known.id
    # The population register's non-disclosure order protects the person, whichever record
    # carried it.
    known.security_prohibition = known.security_prohibition or current.security_prohibition
    session.flush()
    repository.move_records(session, current.id, known.id)
    audit.record_on_patient(session, principal, AuditAction.update, RESOURCE, current.id)
    audit.record_on_patient(session, principal, AuditAction.update, RESOURCE, known.id)
    return Identified(known, current)
