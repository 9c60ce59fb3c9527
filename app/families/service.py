"""A minor's guardians: recorded and read by those caring for the child (the clinicians and
counsellors who may see a referral of theirs), told of the child's appointments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.errors import NotFound, RefusalContext
from app.families import repository
from app.families.exceptions import NotAMinor
from app.families.models import Guardian
from app.families.schemas import GuardiansIn
from app.kit.clock import today_in_helsinki
from app.patients.ages import is_minor
from app.patients.models import Patient
from app.referrals import repository as referrals

RESOURCE = "Guardians"


def _patient_in_care(session: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """The patient, for those who may see a referral of theirs; to anyone else, none."""
    patient = session.get(Patient, patient_id)
    if patient is None or not referrals.in_care_of(session, principal, patient_id):
        raise NotFound(refusal=RefusalContext(RESOURCE, None, str(patient_id)))
    return patient


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


def guardians(
    session: Session, principal: Principal, patient_id: uuid.UUID
) -> tuple[bool, Sequence[Guardian]]:
    """Whether the patient is a minor today, and their guardians; the read is audited."""
    patient = _patient_in_care(session, principal, patient_id)
    _audit(session, principal, AuditAction.read, patient_id)
    return is_minor(patient.birth_date, today_in_helsinki()), repository.of_patient(
        session, patient_id
    )


def replace(
    session: Session, principal: Principal, patient_id: uuid.UUID, data: GuardiansIn
) -> Sequence[Guardian]:
    """The minor's guardians as given, in place of those recorded before; audited."""
    patient = _patient_in_care(session, principal, patient_id)
    if not is_minor(patient.birth_date, today_in_helsinki()):
        raise NotAMinor()
    rows = [
        Guardian(patient_id=patient_id, **guardian.model_dump(), recorded_by=principal.subject)
        for guardian in data.guardians
    ]
    repository.replace(session, patient_id, rows)
    _audit(session, principal, AuditAction.update, patient_id)
    return repository.of_patient(session, patient_id)
