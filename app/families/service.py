"""A minor's guardians: recorded and read by those caring for the child (the clinicians and
counsellors who may see a referral of theirs), told of the child's appointments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.families import repository
from app.families.exceptions import NotAMinor
from app.families.models import Guardian
from app.families.schemas import GuardiansIn
from app.kit.clock import today_in_helsinki
from app.patients.ages import is_minor
from app.patients.models import Patient
from app.referrals import policies

RESOURCE = "Guardians"


def _patient_in_care(session: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """The patient, for those who may see a referral of theirs; to anyone else, none."""
    policies.require_in_care(session, principal, patient_id, RESOURCE)
    # A referral names the patient, so the record is there.
    return session.get_one(Patient, patient_id)


def guardians(
    session: Session, principal: Principal, patient_id: uuid.UUID
) -> tuple[bool, Sequence[Guardian]]:
    """Whether the patient is a minor today, and their guardians; the read is audited."""
    patient = _patient_in_care(session, principal, patient_id)
    audit.record_on_patient(session, principal, AuditAction.read, RESOURCE, patient_id)
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
    audit.record_on_patient(session, principal, AuditAction.update, RESOURCE, patient_id)
    return repository.of_patient(session, patient_id)
