"""Many clients booking at once, on a database that really commits: no double booking, ever.
The counts come from RELIABILITY.md's scenarios: 50 clients on 5 slots, 200 on one
counsellor's overlapping slots of mixed lengths, a group slot of capacity 3, and reschedules
under contention."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db
from app.access.principal import Principal
from app.errors import AppError
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.public_holidays import is_public_holiday
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from app.scheduling import availability, booking
from app.scheduling.models import Appointment, Slot
from app.scheduling.schemas import (
    AppointmentCreate,
    AvailabilityIn,
    CancelAppointment,
    Reschedule,
    RuleIn,
)
from tests.fixtures.databases import seeded_database
from tests.fixtures.factories import demo_patient, referral_body
from tests.fixtures.principals import principal_for

COUNSELLOR = "counsellor1.kaskinen"


@pytest.fixture(scope="module")
def database(
    tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str
) -> Iterator[db.Database]:
    directory = tmp_path_factory.mktemp("race")
    with seeded_database(directory, f"askel_booking_{worker_id_suffix}") as database:
        yield database


def in_transaction(database: db.Database, work: Callable[[Session], object]) -> object:
    with database.write_sessions() as session, session.begin():
        return work(session)


def set_rules(database: db.Database, day: date, **window: object) -> None:
    rule = RuleIn.model_validate(
        {
            "weekday": day.weekday(),
            "start_time": time(8),
            "end_time": time(16),
            "location": "Kaskö idrottshall",
            "modes": ["in_person"],
            "visit_types": ["first_visit", "follow_up"],
            "languages": ["fi", "sv"],
            "valid_from": day,
            "valid_until": day,
            **window,
        }
    )

    def put(session: Session) -> None:
        counsellor = principal_for(session, COUNSELLOR)
        assert counsellor.user_id is not None
        data = AvailabilityIn(rules=[rule], exceptions=[])
        availability.put_availability(
            session, counsellor, counsellor.user_id, data, today_in_helsinki()
        )

    in_transaction(database, put)


def referrals(database: db.Database, count: int) -> tuple[Principal, list[uuid.UUID]]:
    def make(session: Session) -> tuple[Principal, list[uuid.UUID]]:
        doctor = principal_for(session, "doctor.kaskinen")
        patient = demo_patient(session, "231")
        body = ReferralCreate.model_validate(referral_body(patient.id))
        made = [referral_service.send(session, doctor, body).id for _ in range(count)]
        return doctor, made

    return in_transaction(database, make)  # type: ignore[return-value]


def slots_on(database: db.Database, day: date, visit_type: str | None = None) -> list[Slot]:
    with database.read_sessions() as session:
        statement = select(Slot).where(Slot.withdrawn.is_(False)).order_by(Slot.start_at)
        slots = session.scalars(statement).all()
    return [
        s for s in slots
        if s.start_at.date() in (day, day - timedelta(days=1))
        and (visit_type is None or s.visit_type == visit_type)
    ]  # fmt: skip


def attempt(
    database: db.Database, who: Principal, slot_id: uuid.UUID, referral_id: uuid.UUID
) -> str:
    data = AppointmentCreate(slot_id=slot_id, referral_id=referral_id)
    try:
        in_transaction(database, lambda s: booking.book(s, who, data, utcnow()))
    except AppError as refused:
        return refused.code
    return "booked"


def booked(database: db.Database) -> list[Appointment]:
    with database.read_sessions() as session:
        return list(session.scalars(select(Appointment).where(Appointment.status == "booked")))


def clear(database: db.Database) -> None:
    def wipe(session: Session) -> None:
        for appointment in session.scalars(select(Appointment)):
            appointment.status = "cancelled"
        for slot in session.scalars(select(Slot)):
            slot.booked_count = 0

    in_transaction(database, wipe)


def run_all(tasks: list[Callable[[], str]], workers: int = 50) -> list[str]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda task: task(), tasks))


@pytest.fixture
def day(database: db.Database) -> Iterator[date]:
    # Tomorrow, or the first day after it that is no public holiday: a weekly rule makes no
    # slots on one.
    day = today_in_helsinki() + timedelta(days=1)
    while is_public_holiday(day):
        day += timedelta(days=1)
    yield day
    clear(database)


def test_fifty_clients_on_five_slots(database: db.Database, day: date) -> None:
    set_rules(database, day)
    doctor, made = referrals(database, 50)
    five = slots_on(database, day, "first_visit")[:5]
    tasks = [(lambda i=i: attempt(database, doctor, five[i % 5].id, made[i])) for i in range(50)]
    outcomes = run_all(tasks)
    assert outcomes.count("booked") == 5
    assert outcomes.count("slot_unavailable") == 45
    assert len(booked(database)) == 5


def no_overlaps(appointments: list[Appointment]) -> bool:
    by_counsellor = sorted(appointments, key=lambda a: (a.counsellor_id, a.start_at))
    return all(
        a.counsellor_id != b.counsellor_id or a.end_at <= b.start_at or a.slot_id == b.slot_id
        for a, b in itertools.pairwise(by_counsellor)
    )


def test_two_hundred_clients_on_overlapping_slots_of_mixed_lengths(
    database: db.Database, day: date
) -> None:
    set_rules(database, day)
    doctor, made = referrals(database, 200)
    slots = slots_on(database, day)
    assert {s.visit_type for s in slots} == {"first_visit", "follow_up"}
    tasks = [
        (lambda i=i: attempt(database, doctor, slots[i % len(slots)].id, made[i]))
        for i in range(200)
    ]
    outcomes = run_all(tasks)
    appointments = booked(database)
    assert outcomes.count("booked") == len(appointments) > 0
    assert set(outcomes) <= {"booked", "slot_unavailable"}
    assert no_overlaps(appointments)
    # Eight hours of a counsellor's day hold at most sixteen 30-minute visits.
    assert len(appointments) <= 16


def test_a_group_slot_takes_up_to_its_capacity(database: db.Database, day: date) -> None:
    set_rules(database, day, visit_types=["group"], modes=["group"], group_capacity=3)
    doctor, made = referrals(database, 30)
    group = slots_on(database, day, "group")[0]
    outcomes = run_all(
        [(lambda i=i: attempt(database, doctor, group.id, made[i])) for i in range(30)]
    )
    assert outcomes.count("booked") == 3
    assert len(booked(database)) == 3


def test_reschedule_under_contention_never_loses_the_old_slot_without_the_new(
    database: db.Database, day: date
) -> None:
    set_rules(database, day)
    doctor, made = referrals(database, 21)
    first_visits = slots_on(database, day, "first_visit")
    original, contested = first_visits[0], first_visits[4]
    assert attempt(database, doctor, original.id, made[0]) == "booked"
    appointment_id = booked(database)[0].id

    def move() -> str:
        data = Reschedule(slot_id=contested.id)
        try:
            in_transaction(
                database, lambda s: booking.reschedule(s, doctor, appointment_id, data, utcnow())
            )
        except AppError as refused:
            return refused.code
        return "moved"

    tasks = [move] + [
        (lambda i=i: attempt(database, doctor, contested.id, made[i])) for i in range(1, 21)
    ]
    outcomes = run_all(tasks)
    appointments = booked(database)
    assert no_overlaps(appointments)
    on_contested = [a for a in appointments if a.slot_id == contested.id]
    assert len(on_contested) == 1
    mine = [a for a in appointments if a.referral_id == made[0]]
    # Either it moved (and the original slot is free) or it stayed put: never neither.
    assert len(mine) == 1
    assert (mine[0].slot_id == contested.id) == (outcomes[0] == "moved")


def test_many_cancelling_one_appointment_at_once_free_one_place(
    database: db.Database, day: date
) -> None:
    set_rules(database, day, visit_types=["group"], modes=["group"], group_capacity=3)
    doctor, made = referrals(database, 3)
    group = slots_on(database, day, "group")[0]
    assert [attempt(database, doctor, group.id, made[i]) for i in range(3)] == ["booked"] * 3
    target = next(a for a in booked(database) if a.referral_id == made[0])

    def cancel() -> str:
        body = CancelAppointment(cancelled_by="patient", reason="Sairas.")
        try:
            in_transaction(database, lambda s: booking.cancel(s, doctor, target.id, body, utcnow()))
        except AppError as refused:
            return refused.code
        return "cancelled"

    outcomes = run_all([cancel] * 8, workers=8)
    assert outcomes.count("cancelled") == 1
    assert outcomes.count("appointment_not_booked") == 7
    with database.read_sessions() as session:
        assert session.get_one(Slot, group.id).booked_count == 2
    # The freed place is one place: a fourth patient fits, a fifth does not.
    more = referrals(database, 2)[1]
    assert [attempt(database, doctor, group.id, rid) for rid in more] == [
        "booked",
        "slot_unavailable",
    ]
