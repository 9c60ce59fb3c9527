"""The client's consents to uses beyond care and counselling, and the research extracts that
need them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import DataSteward, RecordUser
from app.consents import service
from app.consents.exceptions import NoConsentToStudy
from app.consents.schemas import ConsentIn, ConsentRead, Extract, ExtractRequest, PatientConsents
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.kit.clock import today_in_helsinki
from app.kit.idempotency import (
    Idempotency,
    IdempotencyKey,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)

router = APIRouter(tags=["consents and research"])


@router.post(
    "/patients/{patient_id}/consents",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        NotFound, ValidationFailed, IdempotencyKeyReused, IdempotencyKeyInFlight
    ),
)
def record_consent(
    patient_id: uuid.UUID,
    body: ConsentIn,
    principal: RecordUser,
    session: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> ConsentRead:
    """Record the client's consent, or its withdrawal, to a use of their data beyond care and
    counselling: the clinicians and counsellors who may see a referral of theirs."""
    idempotency = Idempotency(
        session,
        owner=principal.account_key,
        scope=f"consents.record.{patient_id}",
        key=idempotency_key,
        body=body,
    )
    if (previous := idempotency.replay(ConsentRead)) is not None:
        service.record_replay(session, principal, previous.id, patient_id)
        return previous
    decision = service.record(session, principal, patient_id, body)
    return idempotency.remember(ConsentRead.model_validate(decision, from_attributes=True))


@router.get(
    "/patients/{patient_id}/consents", responses=problem_responses(NotFound, ValidationFailed)
)
def list_consents(
    patient_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> PatientConsents:
    """The consents in force today and every decision recorded: the same people."""
    decisions = service.decisions(session, principal, patient_id)
    return PatientConsents(
        in_force=service.in_force(decisions, today_in_helsinki()),
        decisions=[ConsentRead.model_validate(d, from_attributes=True) for d in decisions],
    )


@router.post(
    "/research/extracts",
    openapi_extra=audited_as(AuditAction.query),
    responses=problem_responses(Forbidden, NoConsentToStudy, ValidationFailed),
)
def research_extract(
    body: ExtractRequest, principal: DataSteward, session: WriteSession
) -> Extract:
    """The counselling visits of a period for a study, of the clients whose consent to it is
    in force today, under the study's pseudonyms (the region's data stewards). Clients without
    a consent are left out; with none at all, the extract is refused."""
    return service.extract(session, principal, body, today_in_helsinki())
