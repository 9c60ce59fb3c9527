"""The counselling tab: visits and the activity plan. Written by the counsellors of the
referral's service; read by them and by the referring clinician and their unit (the seed's rules
4 and 5). Nothing is deleted: a visit is corrected by a new record that supersedes it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.counselling import repository
from app.counselling.exceptions import (
    AppointmentHasVisit,
    AppointmentNotAttended,
    AppointmentOfAnotherReferral,
    CorrectionDropsFields,
    PlanVersionNotFound,
    RecordDatedOutsideReferral,
    ReferralNotInCounselling,
    VisitAlreadyCorrected,
)
from app.counselling.models import PlanVersion, Visit
from app.counselling.schemas import (
    Assessment,
    Outcome,
    PlanIn,
    VisitCorrection,
    VisitFields,
    VisitIn,
)
from app.errors import Forbidden, NotFound, RefusalContext
from app.kit.clock import HELSINKI, today_in_helsinki
from app.referrals import events as referral_events
from app.referrals import policies as referral_policies
from app.referrals.exceptions import PreconditionRequired, StaleVersion
from app.referrals.models import Referral
from app.referrals.states import Status
from app.scheduling import repository as scheduling_repository
from app.scheduling.models import Appointment

TAB = "CounsellingTab"
IN_COUNSELLING = (Status.accepted, Status.in_progress)


def _audit(
    session: Session, principal: Principal, action: AuditAction, kind: str, record_id: uuid.UUID,
    patient_id: uuid.UUID,
) -> None:  # fmt: skip
    audit.record(
        session,
        actor=principal,
        action=action,
        resource_type=kind,
        resource_id=record_id,
        patient_id=patient_id,
    )


def _for_writing(session: Session, principal: Principal, referral: Referral) -> None:
    if not referral_policies.is_service_counsellor(principal, referral):
        raise Forbidden(refusal=RefusalContext(TAB, str(referral.id), str(referral.patient_id)))


def _fields(data: VisitIn) -> dict[str, object]:
    fields = data.model_dump(exclude={"appointment_id", "reason"})
    fitness = data.fitness_test
    return {**fields, "fitness_test": fitness.model_dump() if fitness else None,
            "minutes_per_week": data.minutes_per_week}  # fmt: skip


# What a correction must restate or explicitly empty: every field a visit may leave blank.
# The visit's yes-or-no fields: unset, they say no.
FLAGS = ("guardian_present", "family_visit")
CORRECTABLE = tuple(
    name
    for name, field in VisitFields.model_fields.items()
    if not field.is_required() and name != "appointment_id"
)


def _dated_within(referral: Referral, day: date) -> None:
    """A record of the referral's counselling is dated from the day it was sent to today."""
    sent_on, today = referral.created_at.astimezone(HELSINKI).date(), today_in_helsinki()
    if not sent_on <= day <= today:
        raise RecordDatedOutsideReferral(
            sent_on=sent_on.isoformat(),
            today=today.isoformat(),
            extensions={"earliest": sent_on.isoformat(), "latest": today.isoformat()},
        )


def visit_to_record(
    session: Session, principal: Principal, referral_id: uuid.UUID, data: VisitIn
) -> tuple[Referral, Appointment | None]:
    """The referral, locked for a change, and the appointment the visit is tied to (if any),
    when the caller may record the visit there: a counsellor of the service, the referral in
    counselling, the appointment its own, attended or still booked, and without a visit."""
    referral = referral_policies.visible_for_change(session, principal, referral_id)
    _for_writing(session, principal, referral)
    if Status(referral.status) not in IN_COUNSELLING:
        raise ReferralNotInCounselling()
    _dated_within(referral, data.visited_on)
    if data.appointment_id is None:
        return referral, None
    appointment = scheduling_repository.appointment(session, data.appointment_id)
    if appointment is None or appointment.referral_id != referral.id:
        raise AppointmentOfAnotherReferral()
    if appointment.status in ("cancelled", "no_show"):
        raise AppointmentNotAttended(extensions={"appointment_status": appointment.status})
    if repository.has_visit(session, appointment.id):
        raise AppointmentHasVisit()
    return referral, appointment


def add_visit(
    session: Session, principal: Principal, referral: Referral, data: VisitIn, now: datetime
) -> Visit:
    """The visit's record on the referral `visit_to_record` allowed it on, noted on the
    referral's timeline (`app.flows.visit_recording` does both)."""
    visit = Visit(
        referral_id=referral.id,
        patient_id=referral.patient_id,
        service_id=referral.service_id,
        appointment_id=data.appointment_id,
        counsellor_subject=principal.subject,
        counsellor_name=principal.name,
        counsellor_profession=principal.profession,
        first_recorded_at=now,
        **_fields(data),
    )
    repository.add(session, visit)
    referral_events.note(session, principal, referral, "visit_recorded", None)
    _audit(session, principal, AuditAction.create, "Visit", visit.id, visit.patient_id)
    return visit


def visits(session: Session, principal: Principal, referral_id: uuid.UUID) -> Sequence[Visit]:
    """The tab's visits, corrected originals included (marked), oldest first."""
    referral = referral_policies.visible(session, principal, referral_id)
    _audit(session, principal, AuditAction.read, TAB, referral.id, referral.patient_id)
    return repository.visits(session, referral.id)


def first_visit_id(session: Session, referral_id: uuid.UUID) -> uuid.UUID | None:
    """The referral's first visit that stands (THL's first visit; the rest are follow-ups), for
    a caller that has just read or written the referral's visits."""
    return repository.first_standing_visit_id(session, referral_id)


def _holds_data(value: object) -> bool:
    """Whether a recorded value says something a correction could drop: a flag left unset
    (False) says nothing, a zero does."""
    return value is not None and value is not False


def correct(
    session: Session, principal: Principal, visit_id: uuid.UUID, data: VisitCorrection
) -> Visit:
    """Correct a visit record: a new record with the reason; the original is kept, marked."""
    original = repository.visit(session, visit_id)
    if original is None:
        raise NotFound(refusal=RefusalContext("Visit", str(visit_id)))
    referral = referral_policies.visible_for_change(session, principal, original.referral_id)
    _for_writing(session, principal, referral)
    if original.corrected:
        raise VisitAlreadyCorrected(extensions={"visit_id": str(original.id)})
    _dated_within(referral, data.visited_on)
    dropped = [
        name
        for name in CORRECTABLE
        if _holds_data(getattr(original, name)) and name not in data.model_fields_set
    ]
    if dropped:
        raise CorrectionDropsFields(fields=", ".join(dropped), extensions={"fields": dropped})
    original.corrected = True
    correction = Visit(
        referral_id=referral.id,
        patient_id=referral.patient_id,
        service_id=referral.service_id,
        appointment_id=original.appointment_id,
        counsellor_subject=principal.subject,
        counsellor_name=principal.name,
        counsellor_profession=principal.profession,
        supersedes_id=original.id,
        first_recorded_at=original.first_recorded_at,
        correction_reason=data.reason,
        **_fields(data),
    )
    try:
        with session.begin_nested():
            repository.add(session, correction)
    except IntegrityError:
        # Someone else's correction of the same record committed first.
        raise VisitAlreadyCorrected(extensions={"visit_id": str(original.id)}) from None
    referral_events.note(session, principal, referral, "visit_corrected", data.reason)
    _audit(session, principal, AuditAction.update, "Visit", correction.id, referral.patient_id)
    return correction


def save_plan(
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    data: PlanIn,
    expected_version: int | None,
) -> PlanVersion:
    """Save the plan as agreed with the patient: a new version; the earlier ones stay."""
    referral = referral_policies.visible_for_change(session, principal, referral_id)
    _for_writing(session, principal, referral)
    if Status(referral.status) not in IN_COUNSELLING:
        raise ReferralNotInCounselling()
    _dated_within(referral, data.agreed_on)
    current = repository.latest_plan_version(session, referral.id)
    context = RefusalContext("ActivityPlan", str(referral.id), str(referral.patient_id))
    if current and expected_version is None:
        raise PreconditionRequired(refusal=context)
    if current and expected_version != current:
        raise StaleVersion(refusal=context, extensions={"current_version": current})
    plan = PlanVersion(
        referral_id=referral.id,
        patient_id=referral.patient_id,
        version=current + 1,
        goals=[goal.model_dump(mode="json") for goal in data.goals],
        activities=[activity.model_dump(mode="json") for activity in data.activities],
        support_agreed=data.support_agreed,
        follow_up_months=data.follow_up_months,
        moderate_minutes_per_week=data.moderate_minutes_per_week,
        vigorous_minutes_per_week=data.vigorous_minutes_per_week,
        strength_days_per_week=data.strength_days_per_week,
        sitting_hours_per_day=data.sitting_hours_per_day,
        sitting_break_goal=data.sitting_break_goal,
        agreed_on=data.agreed_on,
        agreed_how=data.agreed_how,
        author_subject=principal.subject,
        author_name=principal.name,
        change_note=data.change_note,
    )
    try:
        with session.begin_nested():
            repository.add(session, plan)
    except IntegrityError:
        # Another save of the same version committed first.
        raise StaleVersion(refusal=context) from None
    referral_events.note(session, principal, referral, "plan_saved", data.change_note)
    _audit(session, principal, AuditAction.update, "ActivityPlan", plan.id, referral.patient_id)
    return plan


def read_plan(
    session: Session, principal: Principal, referral_id: uuid.UUID, version: int | None
) -> PlanVersion:
    referral = referral_policies.visible(session, principal, referral_id)
    plan = repository.plan(session, referral.id, version)
    if plan is None:
        raise PlanVersionNotFound()
    _audit(session, principal, AuditAction.read, "ActivityPlan", plan.id, referral.patient_id)
    return plan


def plan_to_follow_up(
    session: Session, principal: Principal, referral_id: uuid.UUID
) -> tuple[Referral, PlanVersion]:
    """The referral, locked for a change, and its plan now, for a counsellor of its service
    booking the plan's follow-ups (`app.flows.follow_ups`)."""
    referral = referral_policies.visible_for_change(session, principal, referral_id)
    _for_writing(session, principal, referral)
    plan = repository.plan(session, referral.id, None)
    if plan is None:
        raise PlanVersionNotFound()
    return referral, plan


def outcome_of(session: Session, referral: Referral) -> Outcome:
    """Visits held, the change in activity from the first to the last assessment, goals met."""
    current = [v for v in repository.visits(session, referral.id) if not v.corrected]
    assessed = [
        v for v in current if v.minutes_per_week is not None or v.strength_days_per_week is not None
    ]
    first, last = (assessed[0], assessed[-1]) if assessed else (None, None)
    plan = repository.plan(session, referral.id, None)
    goals = plan.goals if plan else []

    def change(field: str) -> int | None:
        if first is None or last is None or first is last:
            return None
        before, after = getattr(first, field), getattr(last, field)
        return None if before is None or after is None else after - before

    return Outcome(
        referral_id=referral.id,
        visits_held=len(current),
        first_assessment=_assessment(first),
        last_assessment=_assessment(last),
        minutes_per_week_change=change("minutes_per_week"),
        strength_days_change=change("strength_days_per_week"),
        goals=len(goals),
        goals_met=sum(1 for goal in goals if goal.get("achieved")),
    )


def _assessment(visit: Visit | None) -> Assessment | None:
    if visit is None:
        return None
    return Assessment(
        visited_on=visit.visited_on,
        minutes_per_week=visit.minutes_per_week,
        strength_days_per_week=visit.strength_days_per_week,
    )


def outcome(session: Session, principal: Principal, referral_id: uuid.UUID) -> Outcome:
    referral = referral_policies.visible(session, principal, referral_id)
    _audit(session, principal, AuditAction.read, "Outcome", referral.id, referral.patient_id)
    return outcome_of(session, referral)
