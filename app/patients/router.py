from __future__ import annotations

from fastapi import APIRouter, status

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import PatientFinder, PatientRegistrar
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.flows import patient_identity
from app.kit.idempotency import (
    Idempotency,
    IdempotencyKey,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from app.patients import nondisclosure, service
from app.patients.exceptions import AnotherIdentityCode, InvalidHetuError, PatientExists
from app.patients.schemas import PatientCreate, PatientIdentify, PatientLookup, PatientRead

router = APIRouter(prefix="/patients", tags=["patients"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        Forbidden,
        PatientExists,
        InvalidHetuError,
        ValidationFailed,
        IdempotencyKeyReused,
        IdempotencyKeyInFlight,
    ),
)
def register_patient(
    body: PatientCreate,
    principal: PatientRegistrar,
    session: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> PatientRead:
    """Register a patient (clinicians, the patient system); answers with the pseudonymous id.
    A patient with a security prohibition is answered without municipality and phone to any
    caller but the patient system."""
    idempotency = Idempotency(
        session,
        owner=principal.account_key,
        scope="patients.register",
        key=idempotency_key,
        body=body,
    )
    if (previous := idempotency.replay(PatientRead)) is not None:
        service.record_replay(session, principal, previous.id)
        return nondisclosure.shown(session, principal, previous)
    # Remembered as shown to this caller, so that no other copy of protected details is kept.
    registered = service.register(session, principal, body)
    return idempotency.remember(nondisclosure.shown(session, principal, registered))


@router.post(
    "/lookup",
    openapi_extra=audited_as(AuditAction.query),
    responses=problem_responses(Forbidden, NotFound, InvalidHetuError, ValidationFailed),
)
def lookup_patient(
    body: PatientLookup, principal: PatientFinder, session: WriteSession
) -> PatientRead:
    """Find a patient by personal identity code or by the region's temporary identifier (also
    after their code arrived), sent in the body, never in the address. A patient with a
    security prohibition is answered as by registration."""
    if body.temporary_id is not None:
        found = service.lookup_temporary(session, principal, body.temporary_id)
    else:
        assert body.hetu is not None  # PatientLookup's rule: one or the other
        found = service.lookup(session, principal, body.hetu)
    return nondisclosure.shown(session, principal, found)


@router.post(
    "/identify",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(
        Forbidden, NotFound, InvalidHetuError, AnotherIdentityCode, ValidationFailed
    ),
)
def identify_patient(
    body: PatientIdentify, principal: PatientRegistrar, session: WriteSession
) -> PatientRead:
    """The personal identity code has arrived for someone registered under a temporary
    identifier (clinicians, the patient system). Their record takes it; or, where a patient
    with the code is registered already, the temporary record is merged into theirs: its
    referrals, appointments, visits, plans and consents move there, and the look-up by the
    temporary identifier finds that patient. Both records' audit trails are kept, and the
    patient's access report covers both. Answers with the patient as known now; asking again
    answers the same."""
    identified = patient_identity.identify(session, principal, body)
    return nondisclosure.shown(session, principal, identified)
