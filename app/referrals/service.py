"""The rules of referrals: sending, routing, opening, the life-cycle transitions, the timeline.

Every read and write is audited; every transition is an event on the timeline and an outbox row
in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal, Profession
from app.errors import Forbidden, RefusalContext
from app.kit.clock import add_working_days, today_in_helsinki
from app.kit.pagination import Window
from app.organisations import service as organisations
from app.patients import nondisclosure
from app.patients import repository as patient_records
from app.patients.ages import is_minor
from app.patients.models import Patient
from app.referrals import events, policies, repository
from app.referrals.exceptions import (
    STATUS_NAMES,
    ConsentRequired,
    GuardianConsentForAdult,
    IllegalTransition,
    NoServiceForMunicipality,
    NoServiceForProtectedPatient,
    PreconditionRequired,
    StaleVersion,
    UnknownPatient,
    UnknownReasonCode,
    UnknownService,
)
from app.referrals.models import ReasonCode, Referral, ReferralEvent
from app.referrals.policies import RESOURCE, visible, visible_for_change
from app.referrals.schemas import CancelBody, CompleteBody, ReasonBody, ReferralCreate
from app.referrals.states import REASON_KIND, Action, Status, allowed_from, target

CLINICAL_PROFESSIONS = frozenset({Profession.doctor, Profession.nurse, Profession.physiotherapist})


def _audit(session: Session, principal: Principal, action: AuditAction, referral: Referral) -> None:
    audit.record(
        session,
        actor=principal,
        action=action,
        resource_type=RESOURCE,
        resource_id=referral.id,
        patient_id=referral.patient_id,
    )


def expected_contact_date(session: Session, referral: Referral) -> date:
    """The day by which the referral's service contacts the patient if it is left to book the
    time itself today: its promise in working days, by urgency."""
    service = organisations.get(session, referral.service_id)
    assert service is not None
    days = (
        service.contact_days_urgent
        if referral.urgency == "urgent"
        else service.contact_days_routine
    )
    return add_working_days(today_in_helsinki(), days)


def _expected_contact(session: Session, referral: Referral) -> None:
    referral.booking_by_service = True
    referral.expected_contact_by = expected_contact_date(session, referral)


def send(session: Session, principal: Principal, data: ReferralCreate) -> Referral:
    """Send a referral to the service named, or to the one serving the patient's municipality."""
    if principal.profession not in CLINICAL_PROFESSIONS:
        # The seed names who refers: doctors, nurses and physiotherapists.
        raise Forbidden()
    if not data.consent_to_counselling:
        raise ConsentRequired()
    # A record joined to another since (their code arrived) refers the person as known now.
    patient = patient_records.known_now(session, data.patient_id)
    if patient is None:
        raise UnknownPatient()
    # Unless the clinician chose another, counselling is in the language the patient registered.
    language = data.preferred_language or patient.language
    if data.consent_given_by == "guardian" and not is_minor(
        patient.birth_date, today_in_helsinki()
    ):
        raise GuardianConsentForAdult()
    if data.service_id is not None:
        if organisations.get(session, data.service_id) is None:
            raise UnknownService()
        service_id = data.service_id
    else:
        home = nondisclosure.routing_municipality(session, principal, patient)
        service = organisations.route(session, home, language)
        if service is None and nondisclosure.is_protected(patient):
            raise NoServiceForProtectedPatient()
        if service is None:
            raise NoServiceForMunicipality(municipality=home)
        service_id = service.id
    referral = Referral(
        id=uuid.uuid4(),
        patient_id=patient.id,
        service_id=service_id,
        referrer_id=principal.user_id,
        referrer_subject=principal.subject,
        referrer_name=principal.name,
        referrer_organisation=principal.organisation,
        referrer_profession=principal.profession,
        reason_codes=[code.model_dump() for code in data.reason_codes],
        reason_text=data.reason_text,
        goal=data.goal,
        exercise_restrictions=data.exercise_restrictions,
        risk_factors=data.risk_factors,
        urgency=data.urgency,
        priority=0 if data.urgency == "urgent" else 1,
        preferred_language=language,
        contact_mode=data.contact_mode,
        consent_to_counselling=True,
        consent_given_by=data.consent_given_by,
        status=Status.sent,
    )
    if data.book_by_service:
        _expected_contact(session, referral)
    repository.add(session, referral)
    events.record(session, principal, referral, Action.send, None)
    _audit(session, principal, AuditAction.create, referral)
    return referral


def record_replay(
    session: Session, principal: Principal, referral_id: uuid.UUID, patient_id: uuid.UUID
) -> None:
    """A retried send answers with the first answer again: that is a read."""
    audit.record(
        session,
        actor=principal,
        action=AuditAction.read,
        resource_type=RESOURCE,
        resource_id=referral_id,
        patient_id=patient_id,
    )


def patient_of(session: Session, referral: Referral) -> Patient:
    """The patient of a referral the caller has been shown (its read is audited with them)."""
    patient = session.get(Patient, referral.patient_id)
    assert patient is not None  # a referral's patient is never deleted (a foreign key)
    return patient


def open_referral(session: Session, principal: Principal, referral_id: uuid.UUID) -> Referral:
    """Read a referral; a counsellor of its service opening a `sent` one marks it received."""
    referral = visible(session, principal, referral_id)
    if referral.status == Status.sent and policies.may_take(principal, referral, Action.receive):
        # Read again under the lock: a colleague opening it at the same moment received it.
        referral = visible_for_change(session, principal, referral_id)
        if referral.status == Status.sent:
            referral.status = Status.received
            session.flush()
            events.record(session, principal, referral, Action.receive, Status.sent)
    _audit(session, principal, AuditAction.read, referral)
    return referral


def take(
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    action: Action,
    expected_version: int | None,
    body: ReasonBody | None = None,
) -> Referral:
    """Move a referral on by `action`, if the caller may, the version is the one they read
    and the life cycle allows it. What follows in the other domains (a completion's outcome
    published, a closed referral's appointments freed) is `app.flows.referral_transitions`'s:
    callers other than flows take actions there."""
    referral = visible_for_change(session, principal, referral_id)
    # Refused attempts on a record the caller can see are audited with it.
    context = RefusalContext(RESOURCE, str(referral.id), str(referral.patient_id))
    if not policies.may_take(principal, referral, action):
        raise Forbidden(refusal=context)
    if expected_version is None:
        raise PreconditionRequired(refusal=context)
    if expected_version != referral.version:
        raise StaleVersion(refusal=context, extensions={"current_version": referral.version})
    current = Status(referral.status)
    if not allowed_from(action, current) or (
        action is Action.book_by_service and referral.booking_by_service
    ):
        raise IllegalTransition(
            refusal=context,
            status=STATUS_NAMES[current],
            extensions={"current_status": current.value},
        )
    if action in REASON_KIND:
        assert body is not None
        kind = REASON_KIND[action]
        if repository.valid_reason(session, kind, body.reason_code, today_in_helsinki()) is None:
            raise UnknownReasonCode(refusal=context, extensions={"reason_kind": kind})
    _apply(session, referral, action, current, body)
    try:
        session.flush()
    except StaleDataError:
        # Someone else's transition committed between our read and our write.
        raise StaleVersion(refusal=context) from None
    events.record(session, principal, referral, action, current, body)
    _audit(session, principal, AuditAction(action.value), referral)
    return referral


def _apply(
    session: Session, referral: Referral, action: Action, current: Status, body: ReasonBody | None
) -> None:
    if action is Action.book_by_service:
        _expected_contact(session, referral)
        return
    referral.status = target(action, current)
    if body is not None:
        referral.status_reason_code = body.reason_code
        referral.status_reason_text = body.reason_text
    if isinstance(body, CancelBody):
        referral.cancelled_by = body.cancelled_by
    if isinstance(body, CompleteBody):
        referral.outcome_summary = body.outcome_summary


def timeline(
    session: Session, principal: Principal, referral_id: uuid.UUID
) -> Sequence[ReferralEvent]:
    """Every step of the referral, oldest first."""
    referral = visible(session, principal, referral_id)
    _audit(session, principal, AuditAction.read, referral)
    return repository.events(session, referral.id)


def worklist(
    session: Session, principal: Principal, where: repository.WorklistFilter, limit: int
) -> Window[tuple[Referral, Patient]]:
    """A page of the referrals the caller may see; each one shown is an audited access."""
    page = Window.of(repository.worklist(session, principal, where, limit + 1), limit)
    audit.record_many(
        session,
        actor=principal,
        action=AuditAction.query,
        resource_type=RESOURCE,
        accesses=[(referral.id, referral.patient_id) for referral, _patient in page.rows],
    )
    return Window([(referral, patient) for referral, patient in page.rows], page.more)


def reasons(session: Session, kind: str | None) -> Sequence[ReasonCode]:
    return repository.valid_reasons(session, kind, today_in_helsinki())
