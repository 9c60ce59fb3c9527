from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, delete, exists, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.access.models import User
from app.access.principal import Principal
from app.kit.pagination import beyond
from app.patients.models import Patient
from app.referrals import repository as referrals
from app.referrals.models import Referral
from app.scheduling.models import (
    Appointment,
    AvailabilityException,
    AvailabilityRule,
    CalendarToken,
    Slot,
    SlotHold,
)


def counsellor(session: Session, counsellor_id: uuid.UUID) -> User | None:
    user = session.get(User, counsellor_id)
    return user if user is not None and user.active and user.service_id is not None else None


def counsellors_with_rules(session: Session) -> Sequence[User]:
    statement = select(User).where(
        User.active.is_(True),
        User.service_id.is_not(None),
        User.id.in_(select(AvailabilityRule.counsellor_id)),
    )
    return session.scalars(statement).all()


def availability(
    session: Session, counsellor_id: uuid.UUID
) -> tuple[Sequence[AvailabilityRule], Sequence[AvailabilityException]]:
    rules = session.scalars(
        select(AvailabilityRule)
        .where(AvailabilityRule.counsellor_id == counsellor_id)
        .order_by(AvailabilityRule.weekday, AvailabilityRule.start_time)
    ).all()
    exceptions = session.scalars(
        select(AvailabilityException)
        .where(AvailabilityException.counsellor_id == counsellor_id)
        .order_by(AvailabilityException.on_date, AvailabilityException.start_time)
    ).all()
    return rules, exceptions


def replace_availability(
    session: Session,
    counsellor_id: uuid.UUID,
    rules: list[AvailabilityRule],
    exceptions: list[AvailabilityException],
) -> None:
    session.execute(delete(AvailabilityRule).where(AvailabilityRule.counsellor_id == counsellor_id))
    session.execute(
        delete(AvailabilityException).where(AvailabilityException.counsellor_id == counsellor_id)
    )
    session.add_all([*rules, *exceptions])
    session.flush()


def slots_between(
    session: Session, counsellor_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[Slot]:
    statement = select(Slot).where(
        Slot.counsellor_id == counsellor_id, Slot.start_at >= start, Slot.start_at < end
    )
    return session.scalars(statement).all()


def booked_on(session: Session, slot_ids: list[uuid.UUID]) -> Sequence[Appointment]:
    if not slot_ids:
        return []
    statement = select(Appointment).where(
        Appointment.slot_id.in_(slot_ids), Appointment.status == "booked"
    )
    return session.scalars(statement.order_by(Appointment.start_at)).all()


def lock_counsellors(session: Session, counsellor_ids: Iterable[uuid.UUID]) -> bool:
    """Serialise bookings of these counsellors until the transaction ends (PostgreSQL; SQLite
    writers are serialised already). A row lock on the slot is not enough: slots of different
    lengths overlap, and two bookings on two different slots can collide. Several are locked
    in one order, so that two transactions each needing the same two cannot deadlock.

    Whether it waited for locks: rows read before may have changed meanwhile (never on SQLite,
    where a writer's reads are current)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    for counsellor_id in sorted(set(counsellor_ids)):
        key = int.from_bytes(counsellor_id.bytes[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    return True


def _active_holds_on(slot: type[Slot], now: datetime) -> ColumnElement[int]:
    return (
        select(func.count())
        .where(SlotHold.slot_id == slot.id, SlotHold.expires_at > now)
        .scalar_subquery()
    )


def _counsellor_busy(slot: type[Slot], now: datetime, holder: str | None) -> ColumnElement[bool]:
    """Another booked appointment or someone else's live hold overlaps the slot."""
    booked = exists().where(
        Appointment.counsellor_id == slot.counsellor_id,
        Appointment.status == "booked",
        Appointment.slot_id != slot.id,
        Appointment.start_at < slot.end_at,
        Appointment.end_at > slot.start_at,
    )
    held = exists().where(
        SlotHold.counsellor_id == slot.counsellor_id,
        SlotHold.slot_id != slot.id,
        SlotHold.expires_at > now,
        SlotHold.start_at < slot.end_at,
        SlotHold.end_at > slot.start_at,
        *([SlotHold.holder != holder] if holder else []),
    )
    return booked | held


@dataclass(frozen=True, slots=True)
class SlotFilter:
    service_id: uuid.UUID
    start: datetime
    end: datetime
    mode: str | None = None
    language: str | None = None
    visit_type: str | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # the last slot shown: start, id


def free_slots(
    session: Session, where: SlotFilter, now: datetime, limit: int
) -> Sequence[Row[Slot, str, int]]:
    """Bookable slots, soonest first, with the counsellor's name and the places left."""
    held = _active_holds_on(Slot, now)
    places_left = (Slot.capacity - Slot.booked_count - held).label("places_left")
    conditions = [
        Slot.service_id == where.service_id,
        Slot.withdrawn.is_(False),
        Slot.start_at >= max(where.start, now),
        Slot.start_at < where.end,
        Slot.booked_count + held < Slot.capacity,
        ~_counsellor_busy(Slot, now, None),
    ]
    if where.mode:
        conditions.append(Slot.modes.contains(f",{where.mode},"))
    if where.language:
        conditions.append(Slot.languages.contains(f",{where.language},"))
    if where.visit_type:
        conditions.append(Slot.visit_type == where.visit_type)
    if where.after:
        conditions.append(
            beyond((Slot.start_at, where.after[0], False), (Slot.id, where.after[1], False))
        )
    statement = (
        select(Slot, User.display_name, places_left)
        .join(User, User.id == Slot.counsellor_id)
        .where(*conditions)
        .order_by(Slot.start_at, Slot.id)
        .limit(limit)
    )
    return session.execute(statement).all()


def occupancy(session: Session, slot: Slot, now: datetime, holder: str) -> tuple[int, bool]:
    """The slot read again as it stands (into `slot`), the places taken on it (bookings plus
    live holds by others), and whether its counsellor is busy then otherwise (another booking,
    or someone else's live hold, overlaps it): one statement."""
    holds = (
        select(func.count())
        .where(SlotHold.slot_id == Slot.id, SlotHold.expires_at > now, SlotHold.holder != holder)
        .scalar_subquery()
    )
    statement = (
        select(Slot, holds, _counsellor_busy(Slot, now, holder))
        .where(Slot.id == slot.id)
        .execution_options(populate_existing=True)
    )
    current, held, busy = session.execute(statement).one()
    return current.booked_count + held, bool(busy)


def drop_holds(session: Session, slot_id: uuid.UUID, holder: str) -> None:
    session.execute(delete(SlotHold).where(SlotHold.slot_id == slot_id, SlotHold.holder == holder))


def live_holds_of(session: Session, holder: str, now: datetime) -> int:
    statement = select(func.count()).where(SlotHold.holder == holder, SlotHold.expires_at > now)
    return session.scalar(statement) or 0


def live_hold(session: Session, hold_id: uuid.UUID, now: datetime) -> SlotHold | None:
    hold = session.get(SlotHold, hold_id)
    return hold if hold is not None and hold.expires_at > now else None


def delete_expired_holds(session: Session, now: datetime) -> int:
    result = session.execute(delete(SlotHold).where(SlotHold.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def appointment(session: Session, appointment_id: uuid.UUID) -> Appointment | None:
    return session.get(Appointment, appointment_id)


@dataclass(frozen=True, slots=True)
class AppointmentFilter:
    referral_id: uuid.UUID | None = None
    counsellor_id: uuid.UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    needs_marking_before: datetime | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # the last appointment shown: start, id


def appointments(
    session: Session, principal: Principal, where: AppointmentFilter, limit: int
) -> Sequence[Appointment]:
    """Appointments of the referrals the caller may see (the referrals' own scope)."""
    conditions = [referrals.readable(principal)]
    if where.referral_id:
        conditions.append(Appointment.referral_id == where.referral_id)
    if where.counsellor_id:
        conditions.append(Appointment.counsellor_id == where.counsellor_id)
    if where.start:
        conditions.append(Appointment.start_at >= where.start)
    if where.end:
        conditions.append(Appointment.start_at < where.end)
    if where.needs_marking_before:
        conditions.append(Appointment.status == "booked")
        conditions.append(Appointment.end_at < where.needs_marking_before)
    if where.after:
        start, appointment_id = where.after
        conditions.append(
            beyond((Appointment.start_at, start, False), (Appointment.id, appointment_id, False))
        )
    statement = (
        select(Appointment)
        .join(Referral, Referral.id == Appointment.referral_id)
        .where(*conditions)
        .order_by(Appointment.start_at, Appointment.id)
        .limit(limit)
    )
    return session.scalars(statement).all()


def counsellor_appointments(
    session: Session, counsellor_id: uuid.UUID, since: datetime
) -> Sequence[Appointment]:
    statement = select(Appointment).where(
        Appointment.counsellor_id == counsellor_id,
        Appointment.status.in_(["booked", "attended"]),
        Appointment.start_at >= since,
    )
    return session.scalars(statement.order_by(Appointment.start_at)).all()


def booked_of_referral(
    session: Session,
    referral_id: uuid.UUID,
    start: datetime,
    end: datetime | None = None,
    visit_type: str | None = None,
) -> Sequence[Appointment]:
    conditions = [
        Appointment.referral_id == referral_id,
        Appointment.status == "booked",
        Appointment.start_at >= start,
    ]
    if end is not None:
        conditions.append(Appointment.start_at < end)
    if visit_type is not None:
        conditions.append(Appointment.visit_type == visit_type)
    statement = select(Appointment).where(*conditions).order_by(Appointment.start_at)
    return session.scalars(statement).all()


def calendar_token(session: Session, token_hash: str) -> CalendarToken | None:
    statement = select(CalendarToken).where(
        CalendarToken.token_hash == token_hash, CalendarToken.revoked_at.is_(None)
    )
    return session.scalars(statement).first()


def live_calendar_tokens(session: Session, counsellor_id: uuid.UUID) -> Sequence[CalendarToken]:
    statement = select(CalendarToken).where(
        CalendarToken.counsellor_id == counsellor_id, CalendarToken.revoked_at.is_(None)
    )
    return session.scalars(statement).all()


def slot(session: Session, slot_id: uuid.UUID) -> Slot | None:
    return session.get(Slot, slot_id)


def patient_names(session: Session, patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Patients' names by id, for the pages that show whose appointment it is (never the
    personal identity code)."""
    wanted = set(patient_ids)
    if not wanted:
        return {}
    statement = select(Patient.id, Patient.given_name, Patient.family_name).where(
        Patient.id.in_(wanted)
    )
    return {row.id: f"{row.given_name} {row.family_name}" for row in session.execute(statement)}


def user_names(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    statement = select(User.id, User.display_name).where(User.id.in_(wanted))
    return {row.id: row.display_name for row in session.execute(statement)}


def take_place(session: Session, slot: Slot, appointment: dict[str, object]) -> Appointment | None:
    """Count a place taken on the slot and add the appointment, without a savepoint: each
    statement refuses quietly (the count past capacity, an overlap the database forbids), so
    the transaction stays usable for the refusal's audit entry. None when refused; the caller
    then fails the transaction, which takes the count back."""
    taken = session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.booked_count < Slot.capacity)
        .values(booked_count=Slot.booked_count + 1)
        .returning(Slot.booked_count)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if taken is None:
        return None
    set_committed_value(slot, "booked_count", taken)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    try:
        return session.scalars(
            dialect.insert(Appointment)
            .values(appointment)
            .on_conflict_do_nothing()
            .returning(Appointment)
        ).first()
    except IntegrityError:  # SQLite's overlap trigger: the statement alone is undone
        return None
