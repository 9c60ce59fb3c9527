"""Queueing notices in the booking's transaction, and delivering them from the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.jobs import outbox
from app.jobs.models import OutboxEvent
from app.notices.channel import Notice, NoticeChannel
from app.notices.messages import notice_languages, render
from app.organisations import service as organisations
from app.patients import nondisclosure
from app.patients.models import Patient
from app.scheduling.models import Appointment

REMINDER_BEFORE = timedelta(hours=24)
PREFIX = "notice."
AGGREGATE = "appointment"


def queue(
    session: Session,
    appointment: Appointment,
    kind: str,
    now: datetime,
    *,
    moved_from: Appointment | None = None,
) -> None:
    """A notice about the appointment now, and for a booking a reminder the day before. A
    cancelled appointment's reminder, or that of the one a booking was moved from, is taken
    back: it would name a visit that will not happen."""
    for gone in (appointment if kind == "cancelled" else None, moved_from):
        if gone is not None:
            outbox.withdraw(
                session,
                aggregate_type=AGGREGATE,
                aggregate_id=gone.id,
                event_type=f"{PREFIX}reminder",
            )
    _enqueue(session, appointment, kind, now)
    if kind in ("booked", "rescheduled") and appointment.start_at - REMINDER_BEFORE > now:
        _enqueue(session, appointment, "reminder", appointment.start_at - REMINDER_BEFORE)


def _enqueue(session: Session, appointment: Appointment, kind: str, due: datetime) -> None:
    outbox.enqueue(
        session,
        aggregate_type=AGGREGATE,
        aggregate_id=appointment.id,
        event_type=f"{PREFIX}{kind}",
        payload={"appointment_id": str(appointment.id)},
        due=due,
    )


def deliver(session: Session, event: OutboxEvent, channel: NoticeChannel) -> None:
    """Send one queued notice; one that no longer applies (a reminder for a cancelled
    appointment, a patient without a phone) is dropped."""
    kind = event.event_type.removeprefix(PREFIX)
    appointment = session.get(Appointment, event.aggregate_id)
    if appointment is None or (kind == "reminder" and appointment.status != "booked"):
        return
    patient = session.get(Patient, appointment.patient_id)
    if patient is None or not patient.phone:
        return
    names = {
        language: organisations.place_names(session, language)
        for language in notice_languages(patient.language)
    }
    text = render(
        kind,
        patient.language,
        appointment.start_at,
        lambda language: names[language].get(appointment.location, appointment.location),
    )
    written = notice_languages(patient.language)
    # ISO 639's `mul` tells the gateway a text in more than one language.
    channel.send(
        Notice(
            patient.phone,
            written[0] if len(written) == 1 else "mul",
            text,
            reference=f"askel-{event.id}",
        )
    )
    # Handing the patient's number and appointment to the gateway is a disclosure: log it.
    audit.record(
        session,
        actor=None,
        action=AuditAction.disclose,
        resource_type="Notice",
        resource_id=str(event.id),
        patient_id=patient.id,
        recipient=channel.recipient,
    )
    if nondisclosure.is_protected(patient):
        # The number is under a non-disclosure order: its use to notify is audited as such.
        nondisclosure.record_access(
            session, None, patient.id, action=AuditAction.disclose, recipient=channel.recipient
        )
