"""Recording the client's consents and producing research extracts only for those who gave one.

Care and counselling need no consent (the seed's rule 8); every other use of the data does. A
research extract holds the visits of the clients whose consent to that study is in force on
the day it is made, under pseudonyms that differ from study to study, and each client's data
in it is a disclosure in the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from functools import cache

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.config import get_settings
from app.consents import repository
from app.consents.exceptions import NoConsentToStudy
from app.consents.models import ConsentDecision
from app.consents.schemas import ConsentIn, ConsentInForce, Extract, ExtractRequest, ExtractRow
from app.errors import RefusalContext
from app.kit.crypto import derive_key, keyed_hash
from app.patients import nondisclosure
from app.patients.ages import age_band
from app.referrals import policies

CONSENT = "Consent"
EXTRACT = "ResearchExtract"


def record(
    session: Session, principal: Principal, patient_id: uuid.UUID, data: ConsentIn
) -> ConsentDecision:
    """Add the client's decision (the clinicians and counsellors caring for them)."""
    policies.require_in_care(session, principal, patient_id, CONSENT)
    decision = repository.add(
        session,
        ConsentDecision(
            patient_id=patient_id,
            **data.model_dump(),
            recorded_by=principal.subject,
            recorded_by_name=principal.name,
            recorded_by_organisation=principal.organisation,
        ),
    )
    audit.record(
        session,
        actor=principal,
        action=AuditAction.create,
        resource_type=CONSENT,
        resource_id=decision.id,
        patient_id=patient_id,
    )
    return decision


def record_replay(
    session: Session, principal: Principal, decision_id: uuid.UUID, patient_id: uuid.UUID
) -> None:
    """A retried recording answers with the first answer again: that is a read."""
    audit.record(
        session,
        actor=principal,
        action=AuditAction.read,
        resource_type=CONSENT,
        resource_id=decision_id,
        patient_id=patient_id,
    )


def decisions(
    session: Session, principal: Principal, patient_id: uuid.UUID
) -> Sequence[ConsentDecision]:
    """The client's decisions, newest first."""
    policies.require_in_care(session, principal, patient_id, CONSENT)
    audit.record(
        session,
        actor=principal,
        action=AuditAction.read,
        resource_type=CONSENT,
        patient_id=patient_id,
    )
    return repository.of_patient(session, patient_id)


def in_force(newest_first: Sequence[ConsentDecision], on: date) -> list[ConsentInForce]:
    """For each scope and study, the consent in force on the day, if the newest decision made
    by then gave it."""
    newest: dict[tuple[str, str], ConsentDecision] = {}
    for decision in newest_first:
        if decision.decided_on <= on:
            newest.setdefault((decision.scope, decision.study), decision)
    return [
        ConsentInForce(scope=decision.scope, study=decision.study, since=decision.decided_on)
        for decision in newest.values()
        if decision.decision == "given"
    ]


@cache
def _pseudonym_key(study: str) -> bytes:
    secret = get_settings().hetu_key.get_secret_value()
    return derive_key(secret, f"askel research pseudonym v1 {study}")


def extract(
    session: Session, principal: Principal, request: ExtractRequest, today: date
) -> Extract:
    """The visits in the period of the clients whose consent to the study is in force today
    (the data stewards); refused when there is none."""
    if repository.count_consenting(session, "research", request.study, today) == 0:
        raise NoConsentToStudy(refusal=RefusalContext(EXTRACT, request.study))
    found = repository.visits_of_consenting(
        session, request.study, today, request.visited_from, request.visited_to
    )
    key = _pseudonym_key(request.study)
    rows = [
        ExtractRow(
            pseudonym=keyed_hash(key, str(patient.id))[:20],
            # The research extract goes beyond the controller: never a protected municipality.
            municipality_code=None
            if nondisclosure.is_protected(patient)
            else patient.home_municipality_code,
            age_band=age_band(patient.birth_date, visit.visited_on),
            sex=patient.sex,
            language=patient.language,
            visit_month=f"{visit.visited_on:%Y-%m}",
            contact_type=visit.contact_type,
            duration_minutes=visit.duration_minutes,
            minutes_per_week=visit.minutes_per_week,
            strength_days_per_week=visit.strength_days_per_week,
            sitting_hours_per_day=visit.sitting_hours_per_day,
            stage_of_change=visit.stage_of_change,
        )
        for visit, patient in found
    ]
    patients = sorted({patient.id for _, patient in found})
    audit.record_many(
        session,
        actor=principal,
        action=AuditAction.disclose,
        resource_type=EXTRACT,
        accesses=[(request.study, patient_id) for patient_id in patients],
        recipient=f"{principal.subject}, study {request.study}",
    )
    rows.sort(key=lambda row: (row.pseudonym, row.visit_month))
    return Extract(
        study=request.study, consents_in_force_on=today, patients=len(patients), rows=rows
    )
