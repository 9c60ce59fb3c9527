"""Availability: a counsellor's weekly rules and exceptions, the slots materialised from them
over a rolling horizon, and the search for free ones."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.access.models import User
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.errors import Forbidden, NotFound, RefusalContext
from app.scheduling import calendar_rules, repository
from app.scheduling.models import Appointment, AvailabilityException, AvailabilityRule, Slot
from app.scheduling.schemas import AvailabilityIn, AvailabilityOut, Conflict, ExceptionIn, RuleIn

HORIZON_WEEKS = 16


def _tag(values: tuple[str, ...] | list[str]) -> str:
    return f",{','.join(values)},"


def untag(tagged: str) -> list[str]:
    return [value for value in tagged.split(",") if value]


def _counsellor_for(
    session: Session, principal: Principal, counsellor_id: uuid.UUID, *, write: bool
) -> User:
    """The counsellor, if the caller is a counsellor of the same service; only they themself
    may change it (the others see it, so they are told 403 rather than 404)."""
    counsellor = repository.counsellor(session, counsellor_id)
    if (
        counsellor is None
        or not has_permission(principal, Permission.availability_manage)
        or principal.service_id != counsellor.service_id
    ):
        raise NotFound(refusal=RefusalContext("Availability", str(counsellor_id)))
    if write and counsellor.id != principal.user_id:
        raise Forbidden(refusal=RefusalContext("Availability", str(counsellor_id)))
    return counsellor


def get_availability(
    session: Session, principal: Principal, counsellor_id: uuid.UUID
) -> AvailabilityOut:
    """The counsellor's weekly rules and exceptions."""
    counsellor = _counsellor_for(session, principal, counsellor_id, write=False)
    rules, exceptions = repository.availability(session, counsellor.id)
    return AvailabilityOut(
        counsellor_id=counsellor.id,
        rules=[RuleIn.model_validate(rule, from_attributes=True) for rule in rules],
        exceptions=[ExceptionIn.model_validate(e, from_attributes=True) for e in exceptions],
    )


def put_availability(
    session: Session,
    principal: Principal,
    counsellor_id: uuid.UUID,
    data: AvailabilityIn,
    today: date,
) -> AvailabilityOut:
    """Replace the counsellor's rules and exceptions and re-materialise their slots; booked
    appointments the new rules leave out stay booked and are reported as conflicts."""
    counsellor = _counsellor_for(session, principal, counsellor_id, write=True)
    repository.replace_availability(
        session,
        counsellor.id,
        [AvailabilityRule(counsellor_id=counsellor.id, **rule.model_dump()) for rule in data.rules],
        [
            AvailabilityException(counsellor_id=counsellor.id, **e.model_dump())
            for e in data.exceptions
        ],
    )
    created, withdrawn, conflicts = materialise(session, counsellor, today)
    return AvailabilityOut(
        counsellor_id=counsellor.id,
        rules=data.rules,
        exceptions=data.exceptions,
        slots_created=created,
        slots_withdrawn=withdrawn,
        conflicts=[
            Conflict(appointment_id=a.id, start_at=a.start_at, end_at=a.end_at) for a in conflicts
        ],
    )


def _window(source: AvailabilityRule | AvailabilityException) -> calendar_rules.Window:
    assert source.start_time is not None
    assert source.end_time is not None
    return calendar_rules.Window(
        start=source.start_time,
        end=source.end_time,
        location=source.location or "",
        modes=tuple(source.modes),
        visit_types=tuple(source.visit_types),
        languages=tuple(source.languages),
        group_capacity=source.group_capacity,
    )


def materialise_all(session: Session, today: date) -> int:
    """Extend every counsellor's rolling horizon (run daily); the number of slots created."""
    return sum(
        materialise(session, counsellor, today)[0]
        for counsellor in repository.counsellors_with_rules(session)
    )


def materialise(
    session: Session, counsellor: User, today: date, weeks: int = HORIZON_WEEKS
) -> tuple[int, int, list[Appointment]]:
    """Bring the counsellor's slots for the rolling horizon in line with their rules: create
    the missing, withdraw those no longer offered. Returns (created, withdrawn, conflicts)."""
    assert counsellor.service_id is not None
    # Under the booking lock: a booking landing on a slot being withdrawn would otherwise be
    # missed from the conflicts, and two materialisations would collide.
    repository.lock_counsellors(session, [counsellor.id])
    rules, exceptions = repository.availability(session, counsellor.id)
    last = today + timedelta(weeks=weeks, days=-1)
    wanted = {
        (spec.start_at, spec.visit_type): spec
        for spec in calendar_rules.slots_between(
            today,
            last,
            [calendar_rules.WeeklyRule(r.weekday, _window(r), r.valid_from, r.valid_until)
             for r in rules],
            [calendar_rules.DayException(e.on_date, e.kind, e.start_time, e.end_time,
                                         _window(e) if e.kind == "extra" else None)
             for e in exceptions],
        )
    }  # fmt: skip
    start = calendar_rules.local_instant(today, time(0))
    end = calendar_rules.local_instant(last + timedelta(days=1), time(0))
    existing = {(s.start_at, s.visit_type): s for s in repository.slots_between(
        session, counsellor.id, start, end)}  # fmt: skip
    created = withdrawn = 0
    for key, spec in wanted.items():
        slot = existing.get(key)
        if slot is None:
            session.add(
                Slot(
                    counsellor_id=counsellor.id,
                    service_id=counsellor.service_id,
                    start_at=spec.start_at,
                    end_at=spec.end_at,
                    visit_type=spec.visit_type,
                    capacity=spec.capacity,
                    location=spec.location,
                    modes=_tag(spec.modes),
                    languages=_tag(spec.languages),
                )
            )
            created += 1
            continue
        slot.withdrawn = False
        slot.capacity = max(spec.capacity, slot.booked_count)
        slot.location, slot.modes, slot.languages = (
            spec.location, _tag(spec.modes), _tag(spec.languages))  # fmt: skip
    for key, slot in existing.items():
        if key not in wanted and not slot.withdrawn:
            slot.withdrawn = True
            withdrawn += 1
    session.flush()
    orphaned = [slot.id for slot in existing.values() if slot.withdrawn]
    return created, withdrawn, list(repository.booked_on(session, orphaned))


def search(
    session: Session, where: repository.SlotFilter, now: datetime, limit: int
) -> list[tuple[Slot, str, int]]:
    """Free slots, soonest first, with the counsellor's name and the places left."""
    return [
        (slot, name, left) for slot, name, left in repository.free_slots(session, where, now, limit)
    ]
