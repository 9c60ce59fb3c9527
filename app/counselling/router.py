"""The counselling tab. Readable by the referring clinician, the clinicians of their unit and the
counsellors of the referral's service; writable only by those counsellors. Everyone else: 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import RecordUser
from app.classifications.avohilmo import classify
from app.counselling import service
from app.counselling.exceptions import (
    AppointmentOfAnotherReferral,
    PlanVersionNotFound,
    ReferralNotInCounselling,
    VisitAlreadyCorrected,
)
from app.counselling.models import PlanVersion, Visit
from app.counselling.schemas import (
    FollowUpBooking,
    Outcome,
    PlanIn,
    PlanRead,
    ThlCode,
    VisitClassifications,
    VisitCorrection,
    VisitIn,
    VisitRead,
)
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.flows import follow_ups, visit_recording
from app.i18n import negotiate_language
from app.kit.clock import utcnow
from app.kit.pagination import Page
from app.kit.types import INT64_MAX
from app.kit.versions import IfMatch, etag, expected_version
from app.referrals.exceptions import PreconditionRequired, StaleVersion
from app.scheduling.exceptions import AppointmentNotStarted

router = APIRouter(tags=["counselling tab"])


def _visit(visit: Visit, first_id: uuid.UUID | None) -> VisitRead:
    """A visit as read, with THL's classifications if it stands."""
    read = VisitRead.model_validate(visit, from_attributes=True)
    if visit.corrected:
        return read
    codes = classify(visit.contact_type, visit.counsellor_profession, visit.id == first_id)
    thl = VisitClassifications(
        contact_type=ThlCode(**codes.contact_type.coding()),
        service_class=ThlCode(**codes.service_class.coding()),
        procedure=ThlCode(**codes.procedure.coding()),
        nature=ThlCode(**codes.nature.coding()),
        first_visit=codes.first_visit,
        occupation=ThlCode(**codes.occupation.coding()) if codes.occupation else None,
    )
    return read.model_copy(update={"thl": thl})


def _plan(plan: PlanVersion, request: Request, response: Response) -> PlanRead:
    response.headers["ETag"] = etag(plan.version)
    language = negotiate_language(request.headers.get("accept-language"))
    return PlanRead.of(plan, language)


@router.post(
    "/referrals/{referral_id}/visits",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        Forbidden,
        NotFound,
        ReferralNotInCounselling,
        AppointmentOfAnotherReferral,
        AppointmentNotStarted,
        ValidationFailed,
    ),
)
def record_visit(
    referral_id: uuid.UUID, body: VisitIn, principal: RecordUser, session: WriteSession
) -> VisitRead:
    """Record a counselling visit: the counsellors of the referral's service."""
    visit = visit_recording.record_visit(session, principal, referral_id, body, utcnow())
    return _visit(visit, service.first_visit_id(session, visit.referral_id))


@router.get(
    "/referrals/{referral_id}/visits", responses=problem_responses(NotFound, ValidationFailed)
)
def list_visits(
    referral_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> Page[VisitRead]:
    """The visits on the tab, corrected originals included and marked, oldest first (one page:
    a referral's visits are few)."""
    visits = service.visits(session, principal, referral_id)
    first_id = next((visit.id for visit in visits if not visit.corrected), None)
    items = [_visit(visit, first_id) for visit in visits]
    return Page[VisitRead](items=items, next_cursor=None)


@router.post(
    "/visits/{visit_id}/corrections",
    openapi_extra=audited_as(AuditAction.update),
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(Forbidden, NotFound, VisitAlreadyCorrected, ValidationFailed),
)
def correct_visit(
    visit_id: uuid.UUID, body: VisitCorrection, principal: RecordUser, session: WriteSession
) -> VisitRead:
    """Correct a visit record with a reason; nothing is deleted (the service's counsellors)."""
    visit = service.correct(session, principal, visit_id, body)
    return _visit(visit, service.first_visit_id(session, visit.referral_id))


@router.put(
    "/referrals/{referral_id}/plan",
    responses=problem_responses(
        Forbidden,
        NotFound,
        ReferralNotInCounselling,
        PreconditionRequired,
        StaleVersion,
        ValidationFailed,
    ),
)
def save_plan(
    referral_id: uuid.UUID,
    body: PlanIn,
    principal: RecordUser,
    session: WriteSession,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> PlanRead:
    """Save the activity plan agreed with the patient as a new version (the service's
    counsellors); after the first, send the current version in `If-Match`."""
    expected = expected_version(if_match)
    return _plan(
        service.save_plan(session, principal, referral_id, body, expected), request, response
    )


@router.get(
    "/referrals/{referral_id}/plan",
    responses=problem_responses(NotFound, PlanVersionNotFound, ValidationFailed),
)
def read_plan(
    referral_id: uuid.UUID,
    principal: RecordUser,
    session: WriteSession,
    request: Request,
    response: Response,
    version: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> PlanRead:
    """The activity plan, the newest or `?version=`, with who saved it and why."""
    return _plan(service.read_plan(session, principal, referral_id, version), request, response)


@router.get(
    "/referrals/{referral_id}/outcome", responses=problem_responses(NotFound, ValidationFailed)
)
def referral_outcome(
    referral_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> Outcome:
    """What came of the counselling: visits held, change in weekly activity and strength days
    from the first to the last assessment, goals met."""
    return service.outcome(session, principal, referral_id)


@router.post(
    "/referrals/{referral_id}/plan/follow-ups",
    responses=problem_responses(Forbidden, NotFound, PlanVersionNotFound, ValidationFailed),
)
def book_follow_ups(
    referral_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> list[FollowUpBooking]:
    """Book the plan's follow-ups (e.g. 1, 3, 6 and 12 months): for each, the first free
    follow-up slot within two weeks of its date. The counsellors of the referral's service."""
    return follow_ups.book_follow_ups(session, principal, referral_id, utcnow())
