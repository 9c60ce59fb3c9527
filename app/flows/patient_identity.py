"""The personal identity code arriving for someone registered under a temporary identifier
(patients): their referrals note it and are sent to the region again with the patient as known
now (referrals)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.patients import service as patients
from app.patients.models import Patient
from app.patients.schemas import PatientIdentify
from app.referrals import events as referral_events


def identify(session: Session, principal: Principal, data: PatientIdentify) -> Patient:
    identified = patients.identify(session, principal, data)
    if identified.changed:
        merged = identified.merged is not None
        referral_events.patient_identified(session, principal, identified.patient.id, merged=merged)
    return identified.patient
