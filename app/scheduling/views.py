"""What the scheduling pages show: a counsellor's week, an appointment with what may be done to
it now, a slot still free to book. Everything is read through the same service functions as the
API, so that each appointment shown is audited exactly as the API's answers are."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.kit.clock import HELSINKI, helsinki_midnight
from app.kit.types import EARLIEST, LATEST
from app.referrals import policies as referral_policies
from app.referrals.models import Referral
from app.referrals.states import OPEN, Status
from app.scheduling import availability, booking, repository
from app.scheduling.models import Appointment, Slot
from app.scheduling.repository import AppointmentFilter, SlotFilter

# Pages read a week's appointments and slots a page at a time, as the API's clients would,
# up to a bound that no real week comes near.
PAGE = 200
MOST = 2000
ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, slots=True)
class FreeSlot:
    slot: Slot
    counsellor_name: str
    places_left: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a day: a booked (or once booked) appointment, or a free slot."""

    start_at: datetime
    end_at: datetime
    appointment: Appointment | None = None
    free: FreeSlot | None = None
    patient_name: str = ""
    counsellor_name: str = ""
    needs_marking: bool = False


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    entries: list[Entry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    days: list[Day]

    @property
    def number(self) -> int:
        return self.monday.isocalendar().week

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def previous(self) -> str:
        return week_name(self.monday - timedelta(days=7))

    @property
    def next(self) -> str:
        return week_name(self.monday + timedelta(days=7))


def week_name(day: date) -> str:
    """The ISO week a day falls in, as `2026-W49`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(asked: str | None, today: date) -> date:
    """The Monday of the week asked for as `2026-W49`; this week's if none or not a week."""
    found = ISO_WEEK.match(asked or "")
    if found:
        try:
            monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
        except ValueError:
            monday = None
        if monday is not None and monday >= EARLIEST and monday + timedelta(days=6) <= LATEST:
            return monday
    return today - timedelta(days=today.weekday())


def _appointments(
    session: Session, principal: Principal, where: AppointmentFilter
) -> list[Appointment]:
    found: list[Appointment] = []
    while len(found) < MOST:
        page = booking.list_appointments(session, principal, where, PAGE)
        found += page.rows
        if not page.more:
            break
        where = replace(where, after=(page.rows[-1].start_at, page.rows[-1].id))
    return found


def free_slots(
    session: Session, where: SlotFilter, now: datetime, most: int = MOST
) -> tuple[list[FreeSlot], bool]:
    """The free slots `where` asks for, soonest first, at most `most`; and whether more
    follow."""
    found: list[FreeSlot] = []
    while True:
        wanted = min(PAGE, most - len(found))
        rows = availability.search(session, where, now, wanted + 1)
        found += [FreeSlot(slot, name, left) for slot, name, left in rows[:wanted]]
        more = len(rows) > wanted
        if not more or len(found) >= most:
            return found, more
        last = rows[wanted - 1][0]
        where = replace(where, after=(last.start_at, last.id))


def week_of(
    session: Session, principal: Principal, monday: date, now: datetime, *, whole_service: bool
) -> Week:
    """The counsellor's week (or their whole service's): appointments and free slots by day.
    Each appointment shown is audited as a query, as the API's list of them is."""
    start, end = helsinki_midnight(monday), helsinki_midnight(monday + timedelta(days=7))
    mine = None if whole_service else principal.user_id
    appointments = _appointments(
        session, principal, AppointmentFilter(counsellor_id=mine, start=start, end=end)
    )
    slots: Sequence[FreeSlot] = []
    if principal.service_id is not None:
        slots, _more = free_slots(session, SlotFilter(principal.service_id, start, end), now)
        slots = [s for s in slots if whole_service or s.slot.counsellor_id == principal.user_id]
    patients = repository.patient_names(session, (a.patient_id for a in appointments))
    counsellors = repository.user_names(session, (a.counsellor_id for a in appointments))
    entries = [
        Entry(a.start_at, a.end_at, appointment=a, patient_name=patients.get(a.patient_id, ""),
              counsellor_name=counsellors.get(a.counsellor_id, ""),
              needs_marking=booking.needs_marking(a, now))
        for a in appointments
    ] + [
        Entry(s.slot.start_at, s.slot.end_at, free=s, counsellor_name=s.counsellor_name)
        for s in slots
    ]  # fmt: skip
    entries.sort(key=lambda e: (e.start_at, e.appointment is None, e.end_at))
    days = [Day(monday + timedelta(days=n)) for n in range(7)]
    for entry in entries:
        local = entry.start_at.astimezone(HELSINKI).date()
        days[(local - monday).days].entries.append(entry)
    return Week(monday, days)


@dataclass(frozen=True, slots=True)
class AppointmentView:
    appointment: Appointment
    referral: Referral
    patient_name: str
    counsellor_name: str
    needs_marking: bool
    # What the reader may do to it now: cancel, reschedule, attended, no_show.
    actions: frozenset[str]


def appointment_view(
    session: Session, principal: Principal, appointment_id: uuid.UUID, now: datetime
) -> AppointmentView:
    """One appointment as the API's read gives it (and audits it), with the actions the
    services would allow the reader now."""
    appointment = booking.get_appointment(session, principal, appointment_id)
    referral = referral_policies.visible(session, principal, appointment.referral_id)
    actions: set[str] = set()
    if appointment.status == "booked":
        actions.add("cancel")
        if Status(referral.status) in OPEN:
            actions.add("reschedule")
        if appointment.start_at <= now and referral_policies.is_service_counsellor(
            principal, referral
        ):
            actions |= {"attended", "no_show"}
    names = repository.user_names(session, [appointment.counsellor_id])
    return AppointmentView(
        appointment=appointment,
        referral=referral,
        patient_name=patient_name(session, appointment.patient_id),
        counsellor_name=names.get(appointment.counsellor_id, ""),
        needs_marking=booking.needs_marking(appointment, now),
        actions=frozenset(actions),
    )


def patient_name(session: Session, patient_id: uuid.UUID) -> str:
    return repository.patient_names(session, [patient_id]).get(patient_id, "")


def bookable(referral: Referral) -> bool:
    """Whether appointments may be booked for the referral (the rule `booking.book` keeps)."""
    return Status(referral.status) in OPEN


def free_slot(
    session: Session, service_id: uuid.UUID, slot_id: uuid.UUID, now: datetime
) -> FreeSlot | None:
    """The slot, if it is of the service and still free to book; else None."""
    slot = repository.slot(session, slot_id)
    if slot is None or slot.service_id != service_id:
        return None
    where = SlotFilter(service_id, start=slot.start_at, end=slot.start_at + timedelta(seconds=1))
    found, _more = free_slots(session, where, now)
    return next((free for free in found if free.slot.id == slot_id), None)


def held_slot(
    session: Session,
    principal: Principal,
    service_id: uuid.UUID,
    slot_id: uuid.UUID,
    hold_id: uuid.UUID,
    now: datetime,
) -> tuple[FreeSlot, datetime] | None:
    """The slot and until when it is held, if the reader's own hold on it is still live and
    it is of the service; else None. (A held slot is no longer among the free ones.)"""
    hold = repository.live_hold(session, hold_id, now)
    if hold is None or hold.slot_id != slot_id or hold.holder != principal.subject:
        return None
    slot = repository.slot(session, slot_id)
    if slot is None or slot.service_id != service_id:
        return None
    names = repository.user_names(session, [slot.counsellor_id])
    free = FreeSlot(slot, names.get(slot.counsellor_id, ""), slot.capacity - slot.booked_count)
    return free, hold.expires_at
