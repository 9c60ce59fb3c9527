"""A referral's timeline: each step in its life is an event on it and an outbox row for the
region, written in the step's own transaction. The other domains note theirs here (a booking, a
visit recorded) without going through the referral service."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.jobs import outbox
from app.referrals import repository
from app.referrals.models import Referral, ReferralEvent
from app.referrals.schemas import ReasonBody
from app.referrals.states import Status


def note(
    session: Session, principal: Principal, referral: Referral, action: str, text: str | None
) -> None:
    """A step in the referral's life that leaves its status as it is, e.g. a booking."""
    record(session, principal, referral, action, Status(referral.status), text=text)


def record(
    session: Session,
    principal: Principal,
    referral: Referral,
    action: str,
    from_status: Status | None,
    body: ReasonBody | None = None,
    text: str | None = None,
    reason_code: str | None = None,
) -> None:
    """A step from `from_status` to the referral's status now, with its reason if it has one
    (from the body, or `reason_code` for a step the service takes itself)."""
    repository.add_event(
        session,
        ReferralEvent(
            referral_id=referral.id,
            action=action,
            from_status=from_status,
            to_status=referral.status,
            actor_subject=principal.subject,
            actor_name=principal.name,
            actor_roles=principal.role_names,
            actor_organisation=principal.organisation,
            reason_code=body.reason_code if body else reason_code,
            reason_text=body.reason_text if body else text,
        ),
    )
    outbox.enqueue(
        session,
        aggregate_type="referral",
        aggregate_id=referral.id,
        event_type=f"referral.{action}",
        payload={
            "referral_id": str(referral.id),
            "status": referral.status,
            "version": referral.version,
        },
    )


def patient_identified(
    session: Session, principal: Principal, patient_id: uuid.UUID, *, merged: bool
) -> None:
    """The patient's code arrived (or their temporary record was merged into theirs): each of
    their referrals notes it, and is sent to the region again with the patient as known now."""
    action = "patient_merged" if merged else "patient_identified"
    for referral in repository.of_patient(session, patient_id):
        note(session, principal, referral, action, None)
