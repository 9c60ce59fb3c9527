"""Queueing notices in the booking's transaction, and delivering them from the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.families import repository as guardians
from app.jobs import outbox
from app.jobs.models import OutboxEvent
from app.kit.clock import HELSINKI
from app.notices.channel import Notice, NoticeChannel
from app.notices.messages import notice_languages, render
from app.organisations import service as organisations
from app.patients import nondisclosure
from app.patients.ages import is_minor
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
    if patient is None:
        return
    for number, (phone, language) in enumerate(_recipients(session, patient, appointment)):
        written = notice_languages(language)
        # One reference per recipient: the gateway tells each delivery apart. ISO 639's `mul`
        # tells it a text in more than one language.
        reference = f"askel-{event.id}" if number == 0 else f"askel-{event.id}-{number}"
        text = _text(session, kind, language, appointment)
        channel.send(Notice(phone, written[0] if len(written) == 1 else "mul", text, reference))
        # Handing the number and the appointment to the gateway is a disclosure: log it.
        audit.record(
            session,
            actor=None,
            action=AuditAction.disclose,
            resource_type="Notice",
            resource_id=str(event.id),
            patient_id=patient.id,
            recipient=channel.recipient,
        )
    if patient.phone and nondisclosure.is_protected(patient):
        # The number is under a non-disclosure order: its use to notify is audited as such.
        nondisclosure.record_access(
            session, None, patient.id, action=AuditAction.disclose, recipient=channel.recipient
        )


def _text(session: Session, kind: str, language: str, appointment: Appointment) -> str:
    """The notice in the recipient's language, the place named as it is in that language."""
    names = {written: organisations.place_names(session, written)
             for written in notice_languages(language)}  # fmt: skip
    return render(
        kind,
        language,
        appointment.start_at,
        lambda written: names[written].get(appointment.location, appointment.location),
    )


def _recipients(
    session: Session, patient: Patient, appointment: Appointment
) -> list[tuple[str, str]]:
    """The phones a notice goes to, each with the language it is written in: the patient's own;
    for a minor, also each guardian who receives notices, in the guardian's language."""
    recipients = [(patient.phone, patient.language)] if patient.phone else []
    if is_minor(patient.birth_date, appointment.start_at.astimezone(HELSINKI).date()):
        recipients += [
            (guardian.phone, guardian.language)
            for guardian in guardians.of_patient(session, patient.id)
            if guardian.phone and guardian.receives_notices
        ]
    return recipients
