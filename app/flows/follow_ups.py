"""Booking the follow-ups of a plan: the plan is counselling's, the slots and bookings
scheduling's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.counselling import service as counselling
from app.counselling.schemas import FollowUpBooking
from app.kit.clock import add_months, today_in_helsinki
from app.referrals.models import Referral
from app.scheduling import booking
from app.scheduling import repository as scheduling_repository
from app.scheduling.calendar_rules import local_instant
from app.scheduling.exceptions import SlotUnavailable
from app.scheduling.models import Appointment, Slot
from app.scheduling.repository import SlotFilter
from app.scheduling.schemas import AppointmentCreate

FOLLOW_UP_WINDOW = timedelta(days=14)


def book_follow_ups(
    session: Session, principal: Principal, referral_id: uuid.UUID, now: datetime
) -> list[FollowUpBooking]:
    """Turn the plan's follow-up schedule into bookings: for each, the first free follow-up
    slot of the service within two weeks of the date (counsellors of the service)."""
    referral, plan = counselling.plan_to_follow_up(session, principal, referral_id)
    follow_ups = [
        _follow_up(session, referral, months, plan.agreed_on, now)
        for months in plan.follow_up_months
    ]
    # Every counsellor whose slot may be taken, locked at once and in one order, so that this
    # and another booking over the same counsellors cannot deadlock.
    scheduling_repository.lock_counsellors(
        session, [slot.counsellor_id for follow_up in follow_ups for slot in follow_up.free_slots]
    )
    results = []
    for follow_up in follow_ups:
        booked = follow_up.booked or _book_first(
            session, principal, referral, follow_up.free_slots, now
        )
        results.append(
            FollowUpBooking(
                months=follow_up.months,
                target_date=follow_up.target_date,
                appointment_id=booked.id if booked else None,
                start_at=booked.start_at if booked else None,
            )
        )
    return results


@dataclass(frozen=True, slots=True)
class _FollowUp:
    months: int
    target_date: date
    booked: Appointment | None
    free_slots: Sequence[Slot]


def _follow_up(
    session: Session, referral: Referral, months: int, agreed_on: date, now: datetime
) -> _FollowUp:
    """The follow-up already booked near its date, or the free slots to try, soonest first."""
    target = max(add_months(agreed_on, months), today_in_helsinki())
    start = local_instant(target, time(0))
    already = scheduling_repository.booked_of_referral(
        session, referral.id, start, start + FOLLOW_UP_WINDOW, "follow_up"
    )
    if already:
        # Asked again: the follow-up booked the first time stands; nothing is booked twice.
        return _FollowUp(months, target, already[0], [])
    where = SlotFilter(
        service_id=referral.service_id,
        start=start,
        end=start + FOLLOW_UP_WINDOW,
        visit_type="follow_up",
    )
    free = scheduling_repository.free_slots(session, where, now, 10)
    return _FollowUp(months, target, None, [slot for slot, _name, _left in free])


def _book_first(
    session: Session,
    principal: Principal,
    referral: Referral,
    slots: Sequence[Slot],
    now: datetime,
) -> Appointment | None:
    for slot in slots:
        try:
            # Each attempt in its own savepoint: a slot taken meanwhile leaves no trace.
            with session.begin_nested():
                return booking.book(
                    session,
                    principal,
                    AppointmentCreate(slot_id=slot.id, referral_id=referral.id),
                    now,
                )
        except SlotUnavailable:
            continue
    return None
