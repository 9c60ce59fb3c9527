"""Referrals: who may use each endpoint is in its signature (the permission) and, for a record,
in `policies.py` (the care relationship). A referral the caller may not see answers 404."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import RecordUser, ReferralReader, ReferralSender
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.flows import referral_transitions
from app.i18n import negotiate_language
from app.kit.idempotency import (
    Idempotency,
    IdempotencyKey,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from app.kit.pagination import Cursor, InvalidCursor, Limit, Page, decode_cursor
from app.kit.types import CalendarDate, LocalDateTime
from app.kit.versions import IfMatch, etag, expected_version
from app.patients.models import Patient
from app.referrals import policies, service
from app.referrals.exceptions import (
    ConsentRequired,
    GuardianConsentForAdult,
    IllegalTransition,
    NoServiceForMunicipality,
    PreconditionRequired,
    StaleVersion,
    UnknownPatient,
    UnknownReasonCode,
    UnknownService,
)
from app.referrals.models import Referral, ReferralEvent
from app.referrals.repository import WorklistFilter
from app.referrals.schemas import (
    Actor,
    CancelBody,
    CancelledAppointment,
    CompleteBody,
    PatientSummary,
    ReasonBody,
    ReasonCodeRead,
    ReferralCreate,
    ReferralEventRead,
    ReferralRead,
    ReferralSummary,
    Referrer,
    StatusReason,
)
from app.referrals.states import Action, Status
from app.scheduling.exceptions import AppointmentsBooked

router = APIRouter(tags=["referrals"])

TRANSITION_ERRORS = problem_responses(
    AppointmentsBooked,
    Forbidden,
    NotFound,
    IllegalTransition,
    PreconditionRequired,
    StaleVersion,
    UnknownReasonCode,
    ValidationFailed,
)


def _read(principal: Principal, referral: Referral, response: Response) -> ReferralRead:
    response.headers["ETag"] = etag(referral.version)
    return _representation(principal, referral)


def _representation(principal: Principal, referral: Referral) -> ReferralRead:
    reason = referral.status_reason_code
    return ReferralRead(
        id=referral.id,
        patient_id=referral.patient_id,
        service_id=referral.service_id,
        status=referral.status,
        version=referral.version,
        urgency=referral.urgency,  # type: ignore[arg-type]
        reason_codes=referral.reason_codes,  # type: ignore[arg-type]
        reason_text=referral.reason_text,
        goal=referral.goal,
        exercise_restrictions=referral.exercise_restrictions,
        risk_factors=referral.risk_factors,
        preferred_language=referral.preferred_language,
        contact_mode=referral.contact_mode,  # type: ignore[arg-type]
        consent_to_counselling=referral.consent_to_counselling,
        consent_given_by=referral.consent_given_by,  # type: ignore[arg-type]
        referrer=Referrer(
            subject=referral.referrer_subject,
            name=referral.referrer_name,
            organisation=referral.referrer_organisation,
            profession=referral.referrer_profession,
        ),
        booking_by_service=referral.booking_by_service,
        expected_contact_by=referral.expected_contact_by,
        cancelled_by=referral.cancelled_by,  # type: ignore[arg-type]
        status_reason=StatusReason(code=reason, text=referral.status_reason_text)
        if reason
        else None,
        outcome_summary=referral.outcome_summary,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        allowed_actions=list(policies.allowed_actions(principal, referral)),
    )


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        Forbidden,
        ConsentRequired,
        GuardianConsentForAdult,
        UnknownPatient,
        UnknownService,
        NoServiceForMunicipality,
        ValidationFailed,
        IdempotencyKeyReused,
        IdempotencyKeyInFlight,
    ),
)
def send_referral(
    body: ReferralCreate,
    principal: ReferralSender,
    session: WriteSession,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReferralRead:
    """Send a referral to counselling (clinicians). Routed to the service of the patient's home
    municipality unless one is named."""
    answer = send_once(session, principal, body, idempotency_key)
    response.headers["ETag"] = etag(answer.version)
    response.headers["Location"] = f"/api/v1/referrals/{answer.id}"
    return answer


def send_once(
    session: Session, principal: Principal, body: ReferralCreate, idempotency_key: str | None
) -> ReferralRead:
    """`service.send` once per key: a retry with the key answers with the first answer again
    (a read of the referral, audited as one) and sends nothing. The API's route and the
    clinician's page both send this way."""
    idempotency = Idempotency(
        session, owner=principal.account_key, scope="referrals.send", key=idempotency_key, body=body
    )
    previous = idempotency.replay(ReferralRead)
    if previous is not None:
        service.record_replay(session, principal, previous.id, previous.patient_id)
        return previous
    referral = service.send(session, principal, body)
    return idempotency.remember(_representation(principal, referral))


@router.get("/referrals", responses=problem_responses(Forbidden, InvalidCursor, ValidationFailed))
def list_referrals(
    principal: ReferralReader,
    session: WriteSession,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    urgency: Literal["routine", "urgent"] | None = None,
    created_from: CalendarDate | None = None,
    created_to: CalendarDate | None = None,
    booking_by_service: bool | None = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page[ReferralSummary]:
    """Worklist: a counsellor's service's referrals, or those a clinician or their unit sent;
    urgent first, newest first."""
    after = None
    if cursor:
        key = decode_cursor(cursor, WorklistCursor)
        after = (key.p, key.c, key.i)
    where = WorklistFilter(
        statuses=[s.value for s in status_] if status_ else None,
        urgency=urgency,
        created_from=created_from,
        created_to=created_to,
        booking_by_service=booking_by_service,
        after=after,
    )
    page = service.worklist(session, principal, where, limit)
    return Page[ReferralSummary](
        items=[_summary(referral, patient) for referral, patient in page.rows],
        next_cursor=page.next_cursor(
            lambda row: WorklistCursor.model_validate(
                {"p": row[0].priority, "c": row[0].created_at, "i": row[0].id}
            )
        ),
    )


class WorklistCursor(BaseModel):
    """The worklist's sort key: priority, creation time, id."""

    model_config = ConfigDict(extra="forbid")

    p: Literal[0, 1]
    c: LocalDateTime
    i: uuid.UUID


def _summary(referral: Referral, patient: Patient) -> ReferralSummary:
    return ReferralSummary(
        id=referral.id,
        status=referral.status,
        version=referral.version,
        urgency=referral.urgency,  # type: ignore[arg-type]
        service_id=referral.service_id,
        booking_by_service=referral.booking_by_service,
        expected_contact_by=referral.expected_contact_by,
        created_at=referral.created_at,
        patient=PatientSummary.model_validate(patient, from_attributes=True),
    )


@router.get(
    "/referrals/{referral_id}", responses=problem_responses(Forbidden, NotFound, ValidationFailed)
)
def get_referral(
    referral_id: uuid.UUID, principal: RecordUser, session: WriteSession, response: Response
) -> ReferralRead:
    """One referral with the actions the caller may take on it now; its `ETag` is the version
    to send back in `If-Match`. The referring clinician, clinicians of their unit and the
    counsellors of its service; a counsellor opening a sent one receives it. Others: 404."""
    return _read(principal, service.open_referral(session, principal, referral_id), response)


@router.get(
    "/referrals/{referral_id}/events",
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
def referral_timeline(
    referral_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> Page[ReferralEventRead]:
    """The referral's timeline: every step with who took it, when and why, oldest first (one
    page: a referral's steps are few). Those who may read the referral."""
    events = service.timeline(session, principal, referral_id)
    return Page[ReferralEventRead](items=[_event(event) for event in events], next_cursor=None)


def _event(event: ReferralEvent) -> ReferralEventRead:
    return ReferralEventRead(
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        occurred_at=event.occurred_at,
        actor=Actor(
            subject=event.actor_subject,
            name=event.actor_name,
            roles=event.actor_roles.split(","),
            organisation=event.actor_organisation,
        ),
        reason_code=event.reason_code,
        reason_text=event.reason_text,
    )


def _transition(
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    action: Action,
    if_match: str | None,
    response: Response,
    body: ReasonBody | None = None,
) -> ReferralRead:
    taken = referral_transitions.take(
        session, principal, referral_id, action, expected_version(if_match), body
    )
    read = _read(principal, taken.referral, response)
    read.cancelled_appointments = [
        CancelledAppointment(id=a.id, start_at=a.start_at, counsellor_id=a.counsellor_id)
        for a in taken.cancelled_appointments
    ]
    return read


@router.post(
    "/referrals/{referral_id}/accept",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.accept),
)
def accept_referral(
    referral_id: uuid.UUID,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """Accept a referral. Counsellors of the referral's service."""
    return _transition(session, principal, referral_id, Action.accept, if_match, response)


@router.post(
    "/referrals/{referral_id}/reject",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.reject),
)
def reject_referral(
    referral_id: uuid.UUID,
    body: ReasonBody,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """Reject a referral with a coded reason. Counsellors of the referral's service."""
    return _transition(session, principal, referral_id, Action.reject, if_match, response, body)


@router.post(
    "/referrals/{referral_id}/return",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.return_),
)
def return_referral(
    referral_id: uuid.UUID,
    body: ReasonBody,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """Return a referral to the referrer with advice (e.g. physiotherapy first). Counsellors
    of the referral's service."""
    return _transition(session, principal, referral_id, Action.return_, if_match, response, body)


@router.post(
    "/referrals/{referral_id}/start",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.start),
)
def start_referral(
    referral_id: uuid.UUID,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """Mark an accepted referral in progress: counselling has begun. Counsellors of the
    referral's service."""
    return _transition(session, principal, referral_id, Action.start, if_match, response)


@router.post(
    "/referrals/{referral_id}/complete",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.complete),
)
def complete_referral(
    referral_id: uuid.UUID,
    body: CompleteBody,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """Complete the counselling with a coded reason and an outcome summary for the referrer.
    Counsellors of the referral's service."""
    return _transition(session, principal, referral_id, Action.complete, if_match, response, body)


@router.post(
    "/referrals/{referral_id}/cancel",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.cancel),
)
def cancel_referral(
    referral_id: uuid.UUID,
    body: CancelBody,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """Cancel an open referral, saying whether the patient or the provider cancelled it. The
    referring clinician, clinicians of their unit, counsellors of the referral's service."""
    return _transition(session, principal, referral_id, Action.cancel, if_match, response, body)


@router.post(
    "/referrals/{referral_id}/book-by-service",
    responses=TRANSITION_ERRORS,
    openapi_extra=audited_as(AuditAction.book_by_service),
)
def leave_booking_to_the_service(
    referral_id: uuid.UUID,
    principal: RecordUser,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """No suitable slot: the service books and contacts the patient by `expected_contact_by`.
    The referring clinician and clinicians of their unit."""
    return _transition(session, principal, referral_id, Action.book_by_service, if_match, response)


@router.get("/referral-reasons", responses=problem_responses(Forbidden, ValidationFailed))
def referral_reasons(
    principal: ReferralReader,
    session: WriteSession,
    kind: Literal["reject", "return", "cancel", "complete"] | None = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> Page[ReasonCodeRead]:
    """The coded reasons valid today, in the caller's language (one page: a code list)."""
    language = negotiate_language(accept_language)
    reasons = [
        ReasonCodeRead(
            kind=reason.kind,
            code=reason.code,
            text=getattr(reason, f"text_{language}"),
            valid_from=reason.valid_from,
            valid_until=reason.valid_until,
        )
        for reason in service.reasons(session, kind)
    ]
    return Page[ReasonCodeRead](items=reasons, next_cursor=None)
