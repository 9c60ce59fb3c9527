"""Access grants. The region's access admins grant and revoke; a municipality's access admins
attest and revoke for their own staff and see only them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, status

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.grants import service
from app.access.grants.exceptions import GrantNotAttestable, NotACounsellorOfTheService
from app.access.grants.models import AccessGrant
from app.access.grants.schemas import (
    AccessReview,
    GrantCreate,
    GrantRead,
    GrantRevoke,
    Recertification,
    RecertificationResult,
)
from app.access.models import User
from app.access.permissions import AccessAdmin
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.pagination import (
    Cursor,
    InvalidCursor,
    Page,
    TimeAndId,
    Window,
    after_time_and_id,
    page_size,
)

router = APIRouter(prefix="/admin", tags=["access rights"])


def _read(grant: AccessGrant, user: User) -> GrantRead:
    return GrantRead(
        id=grant.id,
        user_id=grant.user_id,
        username=user.username,
        service_id=grant.service_id,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        granted_by=grant.granted_by,
        attested_by=grant.attested_by,
        attested_at=grant.attested_at,
        revoked_by=grant.revoked_by,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        last_used_on=grant.last_used_on,
        recertified_by=grant.recertified_by,
        recertified_on=grant.recertified_on,
        effective=service.is_effective(grant, today_in_helsinki()),
    )


@router.post(
    "/access-grants",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(Forbidden, NotACounsellorOfTheService, ValidationFailed),
)
def create_grant(body: GrantCreate, principal: AccessAdmin, session: WriteSession) -> GrantRead:
    """Grant a counsellor access to their service's tab and booking for a period (the
    region's access admins). Effective once their municipality attests it."""
    created = service.grant(session, principal, body)
    return _read(created, session.get_one(User, created.user_id))


@router.get(
    "/access-grants", responses=problem_responses(Forbidden, InvalidCursor, ValidationFailed)
)
def list_grants(
    principal: AccessAdmin,
    session: WriteSession,
    limit: Annotated[int, page_size(500)] = 100,
    cursor: Cursor = None,
) -> Page[GrantRead]:
    """Grants, oldest first: all for the region's access admins, their own staff's for a
    municipality's."""
    after = after_time_and_id(cursor, uuid.UUID)
    page = Window.of(service.listing(session, principal, after, limit + 1), limit)
    return Page[GrantRead](
        items=[_read(grant, user) for grant, user in page.rows],
        next_cursor=page.next_cursor(lambda row: TimeAndId(t=row[0].created_at, i=row[0].id)),
    )


@router.post(
    "/access-grants/{grant_id}/attest",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(Forbidden, NotFound, GrantNotAttestable, ValidationFailed),
)
def attest_grant(grant_id: uuid.UUID, principal: AccessAdmin, session: WriteSession) -> GrantRead:
    """Attest that the counsellor's work needs the access (their municipality's access admins)."""
    attested = service.attest(session, principal, grant_id, utcnow())
    return _read(attested, session.get_one(User, attested.user_id))


@router.post(
    "/access-grants/{grant_id}/revoke",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
def revoke_grant(
    grant_id: uuid.UUID, body: GrantRevoke, principal: AccessAdmin, session: WriteSession
) -> GrantRead:
    """Revoke, with effect on the counsellor's next request (the region's access admins, or
    the counsellor's municipality's)."""
    revoked = service.revoke(session, principal, grant_id, body, utcnow())
    return _read(revoked, session.get_one(User, revoked.user_id))


@router.get("/access-review", responses=problem_responses(Forbidden))
def access_review(principal: AccessAdmin, session: WriteSession) -> AccessReview:
    """Grants unused for 90 days, expiring within 30, unattested, attested by someone no longer
    an admin, and counsellors without any grant: the region's admins see all, a
    municipality's their own staff."""
    found = service.review(session, principal, today_in_helsinki())
    return AccessReview(
        unused=[_read(grant, user) for grant, user in found.unused],
        expiring=[_read(grant, user) for grant, user in found.expiring],
        unattested=[_read(grant, user) for grant, user in found.unattested],
        attested_by_non_admin=[_read(grant, user) for grant, user in found.attested_by_non_admin],
        counsellors_without_grant=found.counsellors_without_grant,
    )


@router.post(
    "/access-review/recertify",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
def recertify(
    body: Recertification, principal: AccessAdmin, session: WriteSession
) -> RecertificationResult:
    """Apply an access review: confirm the grants still needed and revoke the rest, in one go
    (access admins, within their scope; one grant outside it refuses the whole request)."""
    confirmed, revoked = service.recertify(session, principal, body, utcnow())
    return RecertificationResult(confirmed=confirmed, revoked=revoked)
