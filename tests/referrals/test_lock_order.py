"""Writers that meet over one referral, on PostgreSQL, each in its own transaction: every
writer takes its locks in one order (the patient, the referral, the counsellor; the audit log
takes none), so that they wait for each other instead of deadlocking, and the second sees what
the first committed. Each test holds one transaction open at a chosen point and lets the
others run into it, so the interleaving is the same on every run."""

from __future__ import annotations

import threading
import time as clock
import uuid
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import db
from app.access.audit import sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction, AuditEvent, AuditLeaf
from app.counselling import service as counselling
from app.counselling.schemas import PlanIn
from app.demo.region import seed
from app.errors import AppError
from app.flows import follow_ups, referral_transitions
from app.kit.clock import add_months, today_in_helsinki, utcnow
from app.patients.models import Patient
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.referrals.schemas import CancelBody, ReferralCreate
from app.referrals.states import Action
from app.scheduling import availability, booking
from app.scheduling.calendar_rules import local_instant
from app.scheduling.models import Appointment, Slot
from app.scheduling.schemas import AppointmentCreate, AvailabilityIn, CancelAppointment, RuleIn
from app.statistics import follow
from app.statistics.models import ReferralFact
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import demo_patient, referral_body
from tests.fixtures.principals import principal_for

pytestmark = pytest.mark.postgres_only

DOCTOR = "doctor.kaskinen"
CANCEL = CancelBody(
    cancelled_by="patient",
    reason_code="patient_declined",
    reason_text="Ei.",
    cancel_booked_appointments=True,
)


@pytest.fixture(scope="module")
def database(
    tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str
) -> Iterator[db.Database]:
    url = fresh_database_url(tmp_path_factory.mktemp("locks"), f"askel_locks_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    with database.write_sessions() as session, session.begin():
        seed(session)
        counsellor = principal_for(session, "counsellor1.kaskinen")
        assert counsellor.user_id is not None
        today = today_in_helsinki()
        weekdays = [RuleIn.model_validate({
            "weekday": weekday, "start_time": time(8), "end_time": time(16),
            "location": "Kaskö idrottshall", "modes": ["in_person"],
            "visit_types": ["first_visit"], "languages": ["fi", "sv"],
            "valid_from": today,
        }) for weekday in range(5)]  # fmt: skip
        hours = AvailabilityIn(rules=weekdays, exceptions=[])
        availability.put_availability(session, counsellor, counsellor.user_id, hours, today)
    yield database
    database.dispose()


class Writer(threading.Thread):
    """One transaction on a connection of its own, in a thread: its outcome is "done", the
    code of the refusal it met, or the database error it died of."""

    def __init__(self, database: db.Database, work: Callable[[Session], object]) -> None:
        super().__init__(daemon=True)
        self.database, self.work = database, work
        self.pid: int | None = None
        self.outcome: str | None = None
        self.started = threading.Event()

    def run(self) -> None:
        try:
            with self.database.write_sessions() as session, session.begin():
                self.pid = session.scalar(text("SELECT pg_backend_pid()"))
                self.started.set()
                self.work(session)
            self.outcome = "done"
        except AppError as refused:
            self.outcome = refused.code
        except Exception as error:  # the failure the test is about: kept, then asserted
            self.outcome = type(error).__name__
        finally:
            self.started.set()


def start_until_waiting(database: db.Database, work: Callable[[Session], object]) -> Writer:
    """Start a writer and return once it waits for a lock another transaction holds (or has
    finished without waiting)."""
    writer = Writer(database, work)
    writer.start()
    writer.started.wait()
    with database.read_sessions() as session:
        for _ in range(3000):  # a guard against a hang, not a measure
            waiting = session.scalar(
                text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": writer.pid},
            )
            if waiting or not writer.is_alive():
                return writer
            clock.sleep(0.01)
            session.rollback()
    raise AssertionError("the writer neither waited nor finished")


def finish(*writers: Writer) -> list[str | None]:
    for writer in writers:
        writer.join(timeout=60)
    return [writer.outcome for writer in writers]


def sent_referral(database: db.Database, municipality: str = "231", index: int = 0) -> uuid.UUID:
    with database.write_sessions() as session, session.begin():
        doctor = principal_for(session, DOCTOR)
        patient = demo_patient(session, municipality, index)
        body = ReferralCreate.model_validate(referral_body(patient.id))
        return referral_service.send(session, doctor, body).id


def free_slot(session: Session, referral_id: uuid.UUID) -> uuid.UUID:
    """A first-visit slot of the referral's service, days ahead, that nobody has booked."""
    referral = session.get_one(Referral, referral_id)
    taken = select(Appointment.slot_id).where(Appointment.status == "booked")
    slot_id = session.scalars(
        select(Slot.id)
        .where(
            Slot.service_id == referral.service_id,
            Slot.visit_type == "first_visit",
            Slot.start_at > utcnow() + timedelta(days=2),
            Slot.id.not_in(taken),
        )
        .order_by(Slot.start_at)
    ).first()
    assert slot_id is not None
    return slot_id


def book(referral_id: uuid.UUID, slot_id: uuid.UUID) -> Callable[[Session], object]:
    def work(session: Session) -> object:
        doctor = principal_for(session, DOCTOR)
        data = AppointmentCreate(slot_id=slot_id, referral_id=referral_id)
        return booking.book(session, doctor, data, utcnow())

    return work


def booked_appointment(database: db.Database, referral_id: uuid.UUID) -> uuid.UUID:
    with database.write_sessions() as session, session.begin():
        appointment = book(referral_id, free_slot(session, referral_id))(session)
        assert isinstance(appointment, Appointment)
        return appointment.id


def cancel_referral(referral_id: uuid.UUID) -> Callable[[Session], object]:
    def work(session: Session) -> object:
        doctor = principal_for(session, DOCTOR)
        version = session.get_one(Referral, referral_id).version
        return referral_transitions.take(
            session, doctor, referral_id, Action.cancel, version, CANCEL
        )

    return work


def test_cancelling_an_appointment_while_its_referral_closes_waits_instead_of_deadlocking(
    database: db.Database,
) -> None:
    referral_id = sent_referral(database)
    appointment_id = booked_appointment(database, referral_id)

    def cancel_appointment(session: Session) -> object:
        doctor = principal_for(session, DOCTOR)
        body = CancelAppointment(cancelled_by="patient", reason="Sairas.")
        return booking.cancel(session, doctor, appointment_id, body, utcnow())

    with database.write_sessions() as holder, holder.begin():
        # The appointment's row held: the cancellation stops at it with whatever locks it took
        # before, and the referral's closing then runs into those.
        holder.execute(
            select(Appointment).where(Appointment.id == appointment_id).with_for_update()
        )
        cancelling = start_until_waiting(database, cancel_appointment)
        closing = start_until_waiting(database, cancel_referral(referral_id))
    assert finish(cancelling, closing) == ["done", "done"]
    with database.read_sessions() as session:
        assert session.get_one(Appointment, appointment_id).status == "cancelled"
        assert session.get_one(Referral, referral_id).status == "cancelled"


def test_a_booking_on_a_referral_being_closed_waits_and_is_refused(database: db.Database) -> None:
    referral_id = sent_referral(database)
    with database.read_sessions() as session:
        slot_id = free_slot(session, referral_id)
    with database.write_sessions() as closer, closer.begin():
        cancel_referral(referral_id)(closer)
        booking = start_until_waiting(database, book(referral_id, slot_id))
    assert finish(booking) == ["referral_not_bookable"]
    with database.read_sessions() as session:
        assert not session.scalars(
            select(Appointment).where(Appointment.referral_id == referral_id)
        ).all()


def test_a_referral_sent_while_its_patient_moves_is_counted_where_they_moved(
    database: db.Database,
) -> None:
    with database.write_sessions() as mover, mover.begin():
        patient = demo_patient(mover, "231", index=1)
        patient.home_municipality_code = "152"
        mover.flush()

        def send(session: Session) -> object:
            doctor = principal_for(session, DOCTOR)
            body = ReferralCreate.model_validate(referral_body(patient.id))
            return referral_service.send(session, doctor, body)

        sending = start_until_waiting(database, send)
    assert finish(sending) == ["done"]
    follow.catch_up(database)
    with database.read_sessions() as session:
        facts = session.scalars(
            select(ReferralFact).where(ReferralFact.patient_id == patient.id)
        ).all()
        assert facts
        assert {fact.municipality for fact in facts} == {"152"}
        assert session.get_one(Patient, patient.id).home_municipality_code == "152"


def test_audit_entries_take_no_lock_another_writer_waits_for(database: db.Database) -> None:
    def read_something(session: Session) -> object:
        return audit.record(session, actor=None, action=AuditAction.read, resource_type="Test")

    with database.write_sessions() as first, first.begin():
        read_something(first)
        first.flush()
        # Another writer records and commits meanwhile: the log holds nothing anyone waits for.
        second = start_until_waiting(database, read_something)
        assert finish(second) == ["done"]
    with database.write_sessions() as session, session.begin():
        sealing.seal(session)
    with database.read_sessions() as session:
        assert audit.verify(session).ok


def _positions(database: db.Database, *resource_types: str) -> dict[str, int]:
    with database.read_sessions() as session:
        rows = session.execute(
            select(AuditEvent.resource_type, AuditLeaf.position)
            .join(AuditLeaf, AuditLeaf.entry_seq == AuditEvent.seq)
            .where(AuditEvent.resource_type.in_(resource_types))
        )
        return {str(kind): int(position) for kind, position in rows}


def test_the_sealer_waits_for_older_transactions_and_seals_in_their_order(
    database: db.Database,
) -> None:
    """An entry written by a transaction still running when a newer one commits may still
    commit: the newer one's entry waits for it, then both are sealed in transaction order."""

    def record(name: str) -> Callable[[Session], object]:
        return lambda session: audit.record(
            session, actor=None, action=AuditAction.read, resource_type=name
        )

    with database.write_sessions() as older, older.begin():
        record("Older")(older)
        older.flush()
        assert finish(start_until_waiting(database, record("Newer"))) == ["done"]
        sealing.seal_all(database)
        assert _positions(database, "Older", "Newer") == {}
    sealing.seal_all(database, wait=30)  # other transactions of the cluster end too
    sealed = _positions(database, "Older", "Newer")
    assert sealed["Older"] + 1 == sealed["Newer"]
    with database.read_sessions() as session:
        assert audit.verify(session).ok


def test_follow_ups_over_the_same_counsellors_in_opposite_order_wait_instead_of_deadlocking(
    database: db.Database,
) -> None:
    """The first referral's follow-ups fall on counsellor A, then B; the second's on B, then A.
    Each booking is held just after its first counsellor is locked: locking them one by one,
    the two would each hold the counsellor the other needs."""
    today = today_in_helsinki()
    windows = [add_months(today, months) for months in (1, 2, 3)]
    with database.write_sessions() as session, session.begin():
        a = principal_for(session, "counsellor1.isokyro")
        b = principal_for(session, "counsellor2.isokyro")
        for counsellor, starts in ((a, windows[0::2]), (b, windows[1:2])):
            rules = [RuleIn.model_validate({
                "weekday": weekday, "start_time": time(9), "end_time": time(10),
                "location": "Isokyrön liikuntahalli", "modes": ["in_person"],
                "visit_types": ["follow_up"], "languages": ["fi"],
                "valid_from": start, "valid_until": start + timedelta(days=13),
            }) for start in starts for weekday in range(7)]  # fmt: skip
            assert counsellor.user_id is not None
            hours = AvailabilityIn(rules=rules, exceptions=[])
            availability.put_availability(session, counsellor, counsellor.user_id, hours, today)
    referral_ids = [
        in_counselling(database, index, months) for index, months in enumerate(([1, 2], [2, 3]))
    ]
    with database.read_sessions() as session:
        first_slots = [soonest_follow_up_slot(session, window) for window in windows[:2]]

    def book_follow_ups(referral_id: uuid.UUID) -> Callable[[Session], object]:
        def work(session: Session) -> object:
            counsellor = principal_for(session, "counsellor1.isokyro")
            return follow_ups.book_follow_ups(session, counsellor, referral_id, utcnow())

        return work

    with database.write_sessions() as holder, holder.begin():
        # The first slot of each held: each booking stops there, its first counsellor locked.
        holder.execute(select(Slot).where(Slot.id.in_(first_slots)).with_for_update())
        first = start_until_waiting(database, book_follow_ups(referral_ids[0]))
        second = start_until_waiting(database, book_follow_ups(referral_ids[1]))
    assert finish(first, second) == ["done", "done"]
    with database.read_sessions() as session:
        for referral_id in referral_ids:
            booked = session.scalars(
                select(Appointment).where(Appointment.referral_id == referral_id)
            ).all()
            assert len(booked) == 2


def in_counselling(database: db.Database, patient_index: int, months: list[int]) -> uuid.UUID:
    """An accepted referral of an Isokyrö patient, its plan agreed today."""
    agreed_on = today_in_helsinki()
    referral_id = sent_referral(database, "152", patient_index)
    with database.write_sessions() as session, session.begin():
        counsellor = principal_for(session, "counsellor1.isokyro")
        referral_transitions.take(session, counsellor, referral_id, Action.accept, 1)
        plan = PlanIn.model_validate({
            "goals": [{"what": "Kävely", "measure": "minutes_per_week", "target": 150,
                       "target_date": add_months(agreed_on, 6)}],
            "activities": [{"kind": "kävely", "frequency_per_week": 5, "minutes": 30,
                            "intensity": "moderate"}],
            "follow_up_months": months, "agreed_with_patient": True,
            "agreed_on": agreed_on, "agreed_how": "in_person",
        })  # fmt: skip
        counselling.save_plan(session, counsellor, referral_id, plan, None)
    return referral_id


def soonest_follow_up_slot(session: Session, start: date) -> uuid.UUID:
    after = local_instant(start, time(0))
    statement = select(Slot.id).where(Slot.visit_type == "follow_up", Slot.start_at >= after)
    return session.scalars(statement.order_by(Slot.start_at)).first() or uuid.uuid4()
