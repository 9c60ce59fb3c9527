"""Granting, attesting and revoking access; checked on every request, so that a revocation or
an expiry takes effect on the very next one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.grants import repository
from app.access.grants.exceptions import GrantNotAttestable, NotACounsellorOfTheService
from app.access.grants.models import AccessGrant
from app.access.grants.schemas import GrantCreate, GrantRevoke, Recertification
from app.access.models import User
from app.access.principal import Principal
from app.errors import Forbidden, NotFound, RefusalContext
from app.organisations.models import OrganisationKind

RESOURCE = "AccessGrant"


def is_effective(grant: AccessGrant, on: date) -> bool:
    return (
        grant.attested_at is not None
        and grant.revoked_at is None
        and grant.valid_from <= on <= grant.valid_until
    )


def note_use(effective: Sequence[AccessGrant], on: date) -> bool:
    """Whether a counsellor may act in their service today, by their grants effective in it
    today (read with the account, on every request); notes the use for access review, once a
    day."""
    if not effective:
        return False
    if all(grant.last_used_on != on for grant in effective):
        effective[0].last_used_on = on
    return True


def _record(
    session: Session, principal: Principal, action: AuditAction, grant: AccessGrant
) -> None:
    audit.record(
        session, actor=principal, action=action, resource_type=RESOURCE, resource_id=grant.id
    )


def _is_region_admin(principal: Principal) -> bool:
    return principal.organisation_kind == OrganisationKind.region


def _own_staff(principal: Principal, user: User) -> bool:
    return (
        principal.organisation_kind == OrganisationKind.municipality
        and principal.organisation_id == user.organisation_id
    )


def grant(session: Session, principal: Principal, data: GrantCreate) -> AccessGrant:
    """The region grants a counsellor access to their service's tab and booking."""
    if not _is_region_admin(principal):
        raise Forbidden(refusal=RefusalContext(RESOURCE))
    user = session.get(User, data.user_id)
    if user is None or "counsellor" not in user.roles or user.service_id != data.service_id:
        raise NotACounsellorOfTheService()
    created = AccessGrant(**data.model_dump(), granted_by=principal.subject)
    session.add(created)
    session.flush()
    _record(session, principal, AuditAction.create, created)
    return created


def _grant_for(
    session: Session, principal: Principal, grant_id: uuid.UUID
) -> tuple[AccessGrant, User]:
    found = repository.get(session, grant_id)
    user = session.get(User, found.user_id) if found else None
    if (
        found is None
        or user is None
        or not (_is_region_admin(principal) or _own_staff(principal, user))
    ):
        raise NotFound(refusal=RefusalContext(RESOURCE, str(grant_id)))
    return found, user


def held(session: Session, principal: Principal, grant_id: uuid.UUID) -> tuple[AccessGrant, User]:
    """One grant and its holder, within the admin's scope (`NotFound` outside it, as for a
    change of it)."""
    return _grant_for(session, principal, grant_id)


def may_grant(principal: Principal) -> bool:
    """Whether the admin gives grants (the region's do; a municipality's attest them)."""
    return _is_region_admin(principal)


def actions(principal: Principal, grant: AccessGrant, user: User) -> frozenset[str]:
    """What the admin may do to a grant within their scope now: `attest`, `revoke`."""
    allowed: set[str] = set()
    unchanged = grant.revoked_at is None
    if unchanged and grant.attested_at is None and _own_staff(principal, user):
        allowed.add("attest")
    if unchanged:
        allowed.add("revoke")
    return frozenset(allowed)


def attest(
    session: Session, principal: Principal, grant_id: uuid.UUID, now: datetime
) -> AccessGrant:
    """The counsellor's municipality attests that their work needs the access."""
    found, user = _grant_for(session, principal, grant_id)
    if not _own_staff(principal, user):
        raise Forbidden(refusal=RefusalContext(RESOURCE, str(grant_id)))
    if found.revoked_at is not None or found.attested_at is not None:
        raise GrantNotAttestable()
    found.attested_by, found.attested_at = principal.subject, now
    session.flush()
    _record(session, principal, AuditAction.update, found)
    return found


def revoke(
    session: Session, principal: Principal, grant_id: uuid.UUID, body: GrantRevoke, now: datetime
) -> AccessGrant:
    """Either side revokes; the counsellor's next request is already refused."""
    found, _user = _grant_for(session, principal, grant_id)
    if found.revoked_at is None:
        found.revoked_by, found.revoked_at, found.revoke_reason = (
            principal.subject,
            now,
            body.reason,
        )
        session.flush()
        _record(session, principal, AuditAction.update, found)
    return found


def listing(
    session: Session,
    principal: Principal,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int | None = None,
) -> Sequence[tuple[AccessGrant, User]]:
    """The region's admins see every grant; a municipality's, their own staff's (oldest first,
    after `after`, at most `limit`)."""
    organisation = None if _is_region_admin(principal) else principal.organisation_id
    return repository.listing(session, organisation, after, limit)


UNUSED_AFTER = timedelta(days=90)
EXPIRING_WITHIN = timedelta(days=30)


Held = list[tuple[AccessGrant, User]]


@dataclass(frozen=True, slots=True)
class Review:
    unused: Held
    expiring: Held
    unattested: Held
    attested_by_non_admin: Held
    counsellors_without_grant: list[str]


def review(session: Session, principal: Principal, today: date) -> Review:
    """Grants unused for 90 days, expiring within 30, unattested, attested by someone who is
    no longer an access admin of the counsellor's municipality; counsellors with no grant."""
    rows = listing(session, principal)
    admins = repository.access_admins_by_organisation(session)
    live = [(g, u) for g, u in rows if g.revoked_at is None and g.valid_until >= today]
    effective = [(g, u) for g, u in live if is_effective(g, today)]
    covered = {u.id for _, u in effective}
    own = None if _is_region_admin(principal) else principal.organisation_id
    return Review(
        unused=[
            (g, u) for g, u in effective
            if g.last_used_on is None or g.last_used_on < today - UNUSED_AFTER
        ],
        expiring=[(g, u) for g, u in effective if g.valid_until <= today + EXPIRING_WITHIN],
        unattested=[(g, u) for g, u in live if g.attested_at is None],
        attested_by_non_admin=[
            (g, u) for g, u in effective
            if g.attested_by not in admins.get(u.organisation_id, set())
        ],
        counsellors_without_grant=[
            u.username for u in repository.counsellors(session, own) if u.id not in covered
        ],
    )  # fmt: skip


def recertify(
    session: Session, principal: Principal, decisions: Recertification, now: datetime
) -> tuple[int, int]:
    """Confirm or revoke grants in bulk after a review, all within the admin's scope or none."""
    chosen = {grant_id: _grant_for(session, principal, grant_id)[0]
              for grant_id in [*decisions.confirm, *decisions.revoke]}  # fmt: skip
    for grant_id in decisions.confirm:
        confirmed = chosen[grant_id]
        confirmed.recertified_by, confirmed.recertified_on = principal.subject, now.date()
        _record(session, principal, AuditAction.update, confirmed)
    for grant_id in decisions.revoke:
        revoke(session, principal, grant_id, GrantRevoke(reason=decisions.reason), now)
    session.flush()
    return len(decisions.confirm), len(decisions.revoke)
