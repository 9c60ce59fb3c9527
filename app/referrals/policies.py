"""Who may see a referral and take which action on it. A referral the caller may not see does
not exist for them (404): `visible` is how every domain reads one for a caller."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.errors import NotFound, RefusalContext
from app.referrals import repository
from app.referrals.models import Referral
from app.referrals.states import TRANSITIONS, Action, Status, allowed_from

RESOURCE = "Referral"


def is_service_counsellor(principal: Principal, referral: Referral) -> bool:
    """A counsellor of the service the referral was sent to."""
    return (
        has_permission(principal, Permission.referral_triage)
        and principal.service_id is not None
        and principal.service_id == referral.service_id
    )


def is_referrer_side(principal: Principal, referral: Referral) -> bool:
    """The clinician who sent it, or a clinician of the same unit."""
    return has_permission(principal, Permission.referral_send) and (
        referral.referrer_id == principal.user_id
        or referral.referrer_organisation == principal.organisation
    )


def can_read(principal: Principal, referral: Referral) -> bool:
    return is_service_counsellor(principal, referral) or is_referrer_side(principal, referral)


def may_take(principal: Principal, referral: Referral, action: Action) -> bool:
    """Whether the caller's role and relationship allow `action` (whatever the status)."""
    if action is Action.cancel:
        return has_permission(principal, Permission.referral_cancel) and can_read(
            principal, referral
        )
    if action is Action.book_by_service:
        return is_referrer_side(principal, referral) and has_permission(
            principal, Permission.referral_book_by_service
        )
    return is_service_counsellor(principal, referral)


def allowed_actions(principal: Principal, referral: Referral) -> list[Action]:
    """What the caller may do with the referral now (receiving happens by opening it)."""
    status = Status(referral.status)
    return [
        action
        for action in TRANSITIONS
        if action is not Action.receive
        and allowed_from(action, status)
        and may_take(principal, referral, action)
        and not (action is Action.book_by_service and referral.booking_by_service)
    ]


def visible(session: Session, principal: Principal, referral_id: uuid.UUID) -> Referral:
    """The referral, if the caller may see it; else 404 (and the attempt is audited)."""
    return _seen_by(principal, referral_id, repository.get(session, referral_id))


def visible_for_change(session: Session, principal: Principal, referral_id: uuid.UUID) -> Referral:
    """The referral, as `visible`, locked and read for a change to it or its records (see
    `repository.read_for_change`): called before anything else is written or locked. The locks
    come before the check, which needs the row they make current; a caller refused holds them
    only until the refusal ends the transaction."""
    return _seen_by(principal, referral_id, repository.read_for_change(session, referral_id))


def require_in_care(
    session: Session, principal: Principal, patient_id: uuid.UUID, resource_type: str
) -> None:
    """The care relationship with a patient: a referral of theirs the caller may see. To anyone
    else the patient's records of `resource_type` do not exist (404, and the attempt audited)."""
    if not repository.in_care_of(session, principal, patient_id):
        raise NotFound(refusal=RefusalContext(resource_type, None, str(patient_id)))


def _seen_by(principal: Principal, referral_id: uuid.UUID, referral: Referral | None) -> Referral:
    if referral is None or not can_read(principal, referral):
        patient = str(referral.patient_id) if referral else None
        raise NotFound(refusal=RefusalContext(RESOURCE, str(referral_id), patient))
    return referral
