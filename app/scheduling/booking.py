"""Holds and the life of an appointment: booking, cancelling, rescheduling, marking.

No double booking, ever: every booking takes the counsellor's lock first (an advisory lock on
PostgreSQL; SQLite serialises writers), re-reads the slot under it, and the database has the last
word (an exclusion constraint on PostgreSQL, a trigger on SQLite) on overlapping appointments.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.errors import Forbidden, NotFound, RefusalContext
from app.kit.clock import to_helsinki
from app.kit.pagination import Window
from app.notices import service as notices
from app.referrals import events as referral_events
from app.referrals import policies as referral_policies
from app.referrals.models import Referral
from app.referrals.states import OPEN, Status
from app.scheduling import repository
from app.scheduling.availability import untag
from app.scheduling.exceptions import (
    AppointmentNotBooked,
    AppointmentNotStarted,
    AppointmentsBooked,
    HoldExpired,
    HoldNotAllowed,
    ModeNotOffered,
    ReferralNotBookable,
    SlotOfAnotherService,
    SlotUnavailable,
    TooManyHolds,
)
from app.scheduling.models import Appointment, Slot, SlotHold
from app.scheduling.schemas import AppointmentCreate, CancelAppointment, Reschedule

HOLD_MINUTES = 5
MAX_HOLDS = 3
LATE_CANCELLATION = timedelta(hours=24)
MARKING_GRACE = timedelta(days=1)
APPOINTMENT = "Appointment"


# Holds -------------------------------------------------------------------------------------


def _lock_and_reload(session: Session, slot: Slot) -> Slot:
    if repository.lock_counsellors(session, [slot.counsellor_id]):
        # Read again under the lock: another booking may have committed since we loaded it.
        session.refresh(slot)
    return slot


def _check_free(session: Session, principal: Principal, slot: Slot, now: datetime) -> None:
    """Under the counsellor's lock: the slot is read again with what takes it (another booking
    may have committed since it was loaded)."""
    taken, busy = repository.occupancy(session, slot, now, principal.subject)
    if slot.withdrawn or slot.start_at <= now or taken >= slot.capacity or busy:
        raise SlotUnavailable()


def _slot(session: Session, slot_id: uuid.UUID) -> Slot:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise NotFound(refusal=RefusalContext("Slot", str(slot_id)))
    return slot


def _may_hold(
    session: Session, principal: Principal, slot: Slot, referral_id: uuid.UUID | None
) -> None:
    """Those who may book for the slot's service: for a referral sent to it, those who may
    book that referral; without one, the service's own counsellors."""
    if referral_id is not None:
        referral = referral_policies.visible(session, principal, referral_id)
        if referral.service_id != slot.service_id:
            raise SlotOfAnotherService()
        if Status(referral.status) not in OPEN:
            raise ReferralNotBookable()
        return
    if not (
        has_permission(principal, Permission.availability_manage)
        and principal.service_id == slot.service_id
    ):
        raise HoldNotAllowed(refusal=RefusalContext("Slot", str(slot.id)))


def hold(
    session: Session,
    principal: Principal,
    slot_id: uuid.UUID,
    referral_id: uuid.UUID | None,
    now: datetime,
) -> SlotHold:
    """Reserve a slot for a few minutes, for those who may book for its service; the hold
    lapses by itself."""
    slot = _slot(session, slot_id)
    _may_hold(session, principal, slot, referral_id)
    repository.lock_counsellors(session, [slot.counsellor_id])
    # A fresh hold replaces the holder's own on the slot, and nobody keeps more than a few:
    # holds must not become a way to block a service's calendar.
    repository.drop_holds(session, slot.id, principal.subject)
    if repository.live_holds_of(session, principal.subject, now) >= MAX_HOLDS:
        raise TooManyHolds()
    _check_free(session, principal, slot, now)
    held = SlotHold(
        slot_id=slot.id,
        counsellor_id=slot.counsellor_id,
        start_at=slot.start_at,
        end_at=slot.end_at,
        holder=principal.subject,
        expires_at=now + timedelta(minutes=HOLD_MINUTES),
    )
    session.add(held)
    session.flush()
    return held


# Appointments ------------------------------------------------------------------------------


def _bookable_referral(session: Session, principal: Principal, referral_id: uuid.UUID) -> Referral:
    referral = referral_policies.visible_for_change(session, principal, referral_id)
    if Status(referral.status) not in OPEN:
        raise ReferralNotBookable()
    return referral


def _take(
    session: Session,
    principal: Principal,
    referral: Referral,
    slot_id: uuid.UUID,
    hold_id: uuid.UUID | None,
    mode: str | None,
    now: datetime,
) -> Appointment:
    slot = _slot(session, slot_id)
    if slot.service_id != referral.service_id:
        raise SlotOfAnotherService()
    chosen_mode = mode or untag(slot.modes)[0]
    if chosen_mode not in untag(slot.modes):
        raise ModeNotOffered()
    repository.lock_counsellors(session, [slot.counsellor_id])
    if hold_id is not None:
        held = repository.live_hold(session, hold_id, now)
        if held is None or held.slot_id != slot.id or held.holder != principal.subject:
            raise HoldExpired()
        session.delete(held)
    _check_free(session, principal, slot, now)
    appointment = repository.take_place(
        session,
        slot,
        {
            "id": uuid.uuid4(),
            "slot_id": slot.id,
            "referral_id": referral.id,
            "patient_id": referral.patient_id,
            "counsellor_id": slot.counsellor_id,
            "service_id": slot.service_id,
            "start_at": slot.start_at,
            "end_at": slot.end_at,
            "visit_type": slot.visit_type,
            "mode": chosen_mode,
            "location": slot.location,
            "status": "booked",
            "booked_by": principal.subject,
        },
    )
    if appointment is None:
        # The database's own rules: the last word if anything above missed a race.
        raise SlotUnavailable()
    return appointment


def book(
    session: Session, principal: Principal, data: AppointmentCreate, now: datetime
) -> Appointment:
    """Book a slot for a referral: its referrer's side or a counsellor of its service."""
    referral = _bookable_referral(session, principal, data.referral_id)
    appointment = _take(session, principal, referral, data.slot_id, data.hold_id, data.mode, now)
    if referral.booking_by_service:
        referral.booking_by_service = False
    referral_events.note(session, principal, referral, "appointment_booked", _when(appointment))
    notices.queue(session, appointment, "booked", now)
    _audit(session, principal, AuditAction.create, appointment)
    return appointment


def _when(appointment: Appointment) -> str:
    # In Helsinki time with its offset, as every time Askel shows.
    return to_helsinki(appointment.start_at)


def _audit(session: Session, principal: Principal, action: AuditAction, a: Appointment) -> None:
    audit.record(
        session,
        actor=principal,
        action=action,
        resource_type=APPOINTMENT,
        resource_id=a.id,
        patient_id=a.patient_id,
    )


def record_replay(
    session: Session, principal: Principal, appointment_id: uuid.UUID, patient_id: uuid.UUID
) -> None:
    """A retried booking answers with the first answer again: that is a read."""
    audit.record(
        session,
        actor=principal,
        action=AuditAction.read,
        resource_type=APPOINTMENT,
        resource_id=appointment_id,
        patient_id=patient_id,
    )


def _visible(
    session: Session, principal: Principal, appointment_id: uuid.UUID
) -> tuple[Appointment, Referral]:
    appointment = repository.appointment(session, appointment_id)
    referral = session.get(Referral, appointment.referral_id) if appointment else None
    if (
        appointment is None
        or referral is None
        or not referral_policies.can_read(principal, referral)
    ):
        patient = str(appointment.patient_id) if appointment else None
        raise NotFound(refusal=RefusalContext(APPOINTMENT, str(appointment_id), patient))
    return appointment, referral


def _visible_for_change(
    session: Session, principal: Principal, appointment_id: uuid.UUID
) -> tuple[Appointment, Referral]:
    """As `_visible`, with the referral locked before anything else (the lock order)."""
    appointment, referral = _visible(session, principal, appointment_id)
    return appointment, referral_policies.visible_for_change(session, principal, referral.id)


def get_appointment(
    session: Session, principal: Principal, appointment_id: uuid.UUID
) -> Appointment:
    appointment, _referral = _visible(session, principal, appointment_id)
    _audit(session, principal, AuditAction.read, appointment)
    return appointment


def _locked_booked(session: Session, appointment: Appointment) -> None:
    """Take the counsellor's lock and re-read the appointment under it: of two people
    cancelling (or moving) the same appointment at once, the second finds it no longer booked."""
    repository.lock_counsellors(session, [appointment.counsellor_id])
    session.refresh(appointment, with_for_update=True)
    if appointment.status != "booked":
        raise AppointmentNotBooked()


def _release(session: Session, appointment: Appointment) -> None:
    slot = _lock_and_reload(session, _slot(session, appointment.slot_id))
    slot.booked_count -= 1


def cancel(
    session: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    body: CancelAppointment,
    now: datetime,
) -> Appointment:
    """Cancel a booked appointment, by the patient or by the provider; under 24 hours before
    its start it is a late cancellation."""
    appointment, referral = _visible_for_change(session, principal, appointment_id)
    _locked_booked(session, appointment)
    _release(session, appointment)
    appointment.status = "cancelled"
    appointment.cancelled_by = body.cancelled_by
    appointment.cancel_reason = body.reason
    appointment.late_cancellation = appointment.start_at - now < LATE_CANCELLATION
    session.flush()
    referral_events.note(session, principal, referral, "appointment_cancelled", body.reason)
    notices.queue(session, appointment, "cancelled", now)
    _audit(session, principal, AuditAction.update, appointment)
    return appointment


def reschedule(
    session: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    body: Reschedule,
    now: datetime,
) -> Appointment:
    """Move an appointment to another slot in one transaction: the new slot is taken before
    the change commits, or nothing changes at all."""
    old, referral = _visible_for_change(session, principal, appointment_id)
    if Status(referral.status) not in OPEN:
        raise ReferralNotBookable()
    target = _slot(session, body.slot_id)
    repository.lock_counsellors(session, [old.counsellor_id, target.counsellor_id])
    _locked_booked(session, old)
    _release(session, old)
    old.status = "cancelled"
    old.cancel_reason = "rescheduled"
    session.flush()
    new = _take(session, principal, referral, body.slot_id, body.hold_id, body.mode, now)
    old.rescheduled_to = new.id
    session.flush()
    referral_events.note(session, principal, referral, "appointment_rescheduled", _when(new))
    notices.queue(session, new, "rescheduled", now, moved_from=old)
    _audit(session, principal, AuditAction.update, old)
    _audit(session, principal, AuditAction.create, new)
    return new


def mark(
    session: Session, principal: Principal, appointment_id: uuid.UUID, outcome: str, now: datetime
) -> Appointment:
    """Mark a begun appointment attended or a no-show (the service's counsellors)."""
    appointment, referral = _visible_for_change(session, principal, appointment_id)
    if not referral_policies.is_service_counsellor(principal, referral):
        raise Forbidden(
            refusal=RefusalContext(APPOINTMENT, str(appointment.id), str(appointment.patient_id))
        )
    _locked_booked(session, appointment)
    if appointment.start_at > now:
        raise AppointmentNotStarted()
    appointment.status = outcome
    session.flush()
    referral_events.note(session, principal, referral, f"appointment_{outcome}", None)
    _audit(session, principal, AuditAction.update, appointment)
    return appointment


def list_appointments(
    session: Session, principal: Principal, where: repository.AppointmentFilter, limit: int
) -> Window[Appointment]:
    """A page of the appointments the caller may see; each one shown is an audited access.
    Asked for those of a referral they may not see, the answer is the referral's 404 (and its
    audited refusal), not an empty list that the log would call a search."""
    if where.referral_id is not None:
        referral_policies.visible(session, principal, where.referral_id)
    page = Window.of(repository.appointments(session, principal, where, limit + 1), limit)
    audit.record_many(
        session,
        actor=principal,
        action=AuditAction.query,
        resource_type=APPOINTMENT,
        accesses=[(a.id, a.patient_id) for a in page.rows],
    )
    return page


def needs_marking(appointment: Appointment, now: datetime) -> bool:
    return appointment.status == "booked" and appointment.end_at < now - MARKING_GRACE


def release_for_closed_referral(
    session: Session, principal: Principal, referral: Referral, now: datetime, *, confirmed: bool
) -> list[Appointment]:
    """A referral that closes frees its appointments still to come: the counsellor's time, and
    no reminders for a visit that will not happen. Only when the caller confirmed it: without,
    the closing is refused with the appointments listed. Each is told to the patient and
    noted on the referral's timeline; the ones cancelled are returned."""
    appointments = list(repository.booked_of_referral(session, referral.id, now))
    if appointments and not confirmed:
        raise AppointmentsBooked(
            extensions={
                "appointments": [
                    {"id": str(a.id), "start_at": to_helsinki(a.start_at)} for a in appointments
                ]
            }
        )
    repository.lock_counsellors(session, [a.counsellor_id for a in appointments])
    for appointment in appointments:
        _locked_booked(session, appointment)
        _release(session, appointment)
        appointment.status = "cancelled"
        appointment.cancelled_by = "provider"
        appointment.cancel_reason = f"referral {referral.status}"
        appointment.late_cancellation = appointment.start_at - now < LATE_CANCELLATION
        session.flush()
        referral_events.note(
            session, principal, referral, "appointment_cancelled", _when(appointment)
        )
        notices.queue(session, appointment, "cancelled", now)
        _audit(session, principal, AuditAction.update, appointment)
    return appointments
