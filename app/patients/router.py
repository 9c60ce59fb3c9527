from __future__ import annotations

from fastapi import APIRouter, status

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import PatientFinder, PatientRegistrar
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.kit.idempotency import (
    Idempotency,
    IdempotencyKey,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from app.patients import service
from app.patients.exceptions import InvalidHetuError, PatientExists
from app.patients.schemas import PatientCreate, PatientLookup, PatientRead

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
    """Register a patient (clinicians, the patient system); answers with the pseudonymous id."""
    idempotency = Idempotency(
        session,
        owner=principal.account_key,
        scope="patients.register",
        key=idempotency_key,
        body=body,
    )
    if (previous := idempotency.replay(PatientRead)) is not None:
        service.record_replay(session, principal, previous.id)
        return previous
    return idempotency.remember(
        PatientRead.model_validate(service.register(session, principal, body))
    )


@router.post(
    "/lookup",
    openapi_extra=audited_as(AuditAction.query),
    responses=problem_responses(Forbidden, NotFound, InvalidHetuError, ValidationFailed),
)
def lookup_patient(
    body: PatientLookup, principal: PatientFinder, session: WriteSession
) -> PatientRead:
    """Find a patient by personal identity code, sent in the body, never in the address."""
    return PatientRead.model_validate(service.lookup(session, principal, body.hetu))
