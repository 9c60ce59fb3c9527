"""Two API processes and two sync workers on one PostgreSQL database, as in production: bookings
racing across the processes never double-book; the outbox they fill reaches the FHIR peer once
per event and in order per referral, although one worker is killed with SIGKILL mid-way."""

from __future__ import annotations

import itertools
import signal
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from app import db
from app.demo.region import seed
from app.jobs.models import OutboxEvent
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.public_holidays import is_public_holiday
from app.patients.models import Patient
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.referrals.schemas import ReferralCreate
from app.scheduling import availability
from app.scheduling.models import Appointment, Slot
from app.scheduling.schemas import AvailabilityIn, RuleIn
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import referral_body
from tests.fixtures.peers import MedplumPeer
from tests.fixtures.principals import principal_for
from tests.fixtures.serving import LOG, serving, wait_for, worker

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]
REFERRALS = 16
SLOTS = 6


@pytest.fixture
def database(tmp_path: Path, worker_id_suffix: str) -> Iterator[tuple[str, db.Database]]:
    """The demo data, SLOTS first-visit slots of one Laihia counsellor, and REFERRALS referrals
    sent to Laihia's service, each of a patient of its own."""
    url = fresh_database_url(tmp_path, f"askel_processes_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    with database.write_sessions() as session, session.begin():
        seed(session)
        counsellor = principal_for(session, "counsellor1.laihia")
        assert counsellor.user_id is not None
        today = today_in_helsinki()
        # SLOTS days from the day after tomorrow, a slot each (a public holiday has none).
        ahead = (today + timedelta(days=n) for n in range(2, 60))
        days = [day for day in ahead if not is_public_holiday(day)][:SLOTS]
        rules = [RuleIn.model_validate({
            "weekday": weekday, "start_time": clock_time(9), "end_time": clock_time(10),
            "location": "Laihian liikuntahalli", "modes": ["in_person"],
            "visit_types": ["first_visit"], "languages": ["fi"],
            "valid_from": days[0], "valid_until": days[-1],
        }) for weekday in range(7)]  # fmt: skip
        hours = AvailabilityIn(rules=rules, exceptions=[])
        availability.put_availability(session, counsellor, counsellor.user_id, hours, today)
        doctor = principal_for(session, "doctor.laihia")
        residents = select(Patient).where(Patient.home_municipality_code == "399")
        patients = session.scalars(residents.order_by(Patient.birth_date)).all()
        for patient in patients[:REFERRALS]:
            body = referral_body(patient.id, preferred_language="fi")
            referral_service.send(session, doctor, ReferralCreate.model_validate(body))
    yield url, database
    database.dispose()


def _unpublished(database: db.Database) -> int:
    """Events due and not yet published (a reminder for the day before a visit is not due)."""
    with database.read_sessions() as session:
        statement = select(func.count()).select_from(OutboxEvent)
        due = OutboxEvent.next_attempt_at <= utcnow()
        return session.scalar(statement.where(OutboxEvent.published_at.is_(None), due)) or 0


def test_two_api_processes_and_two_workers_keep_every_promise(
    database: tuple[str, db.Database], medplum: MedplumPeer, tmp_path: Path
) -> None:
    url, data = database
    with data.read_sessions() as session:
        slot_ids = [str(s) for s in session.scalars(select(Slot.id).order_by(Slot.start_at))]
        referral_ids = [str(r) for r in session.scalars(select(Referral.id).order_by(Referral.id))]
    assert len(slot_ids) == SLOTS
    settings = {"database_url": url, "rate_limits_enabled": "false",
                "seed_demo_data": "false", "migrate_on_start": "false"}  # fmt: skip
    with ExitStack() as stack:
        bases = []
        for name in ("first", "second"):
            directory = tmp_path / name
            directory.mkdir()
            base, process = stack.enter_context(serving(directory, **settings))
            assert process.poll() is None, (directory / LOG).read_text()
            bases.append(base)
        clients = []
        for base in bases:
            client = stack.enter_context(httpx.Client(base_url=base, timeout=60))
            answer = client.post("/dev/token", json={"username": "doctor.laihia"})
            client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            clients.append(client)

        def book(numbered: tuple[int, str]) -> list[int]:
            """One referral tries the slots in turn, through both processes, until one is its."""
            number, referral_id = numbered
            statuses = []
            alternating = itertools.islice(itertools.cycle(clients), number % 2, None)
            for slot_id, client in zip(slot_ids, alternating, strict=False):
                body = {"slot_id": slot_id, "referral_id": referral_id}
                answer = client.post("/api/v1/appointments", json=body)
                statuses.append(answer.status_code)
                if answer.status_code == 201:
                    break
                assert answer.status_code == 409, answer.text
            return statuses

        with ThreadPoolExecutor(max_workers=REFERRALS) as pool:
            outcomes = list(pool.map(book, enumerate(referral_ids)))
    statuses = [status for outcome in outcomes for status in outcome]
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) == SLOTS
    with data.read_sessions() as session:
        booked = session.scalars(select(Appointment).where(Appointment.status == "booked")).all()
        assert sorted(str(a.slot_id) for a in booked) == sorted(slot_ids)
        assert len({a.referral_id for a in booked}) == SLOTS
        for slot in session.scalars(select(Slot)):
            assert slot.booked_count == sum(1 for a in booked if a.slot_id == slot.id)

    workers = [worker(url, medplum.base_url, tmp_path), worker(url, medplum.base_url, tmp_path)]
    total = _unpublished(data)
    try:
        assert wait_for(lambda: _unpublished(data) <= total - 5, 60), "nothing was published"
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        assert _unpublished(data) > 0, "too late to kill a worker mid-way"
        workers.append(worker(url, medplum.base_url, tmp_path))
        assert wait_for(lambda: _unpublished(data) == 0, 180), _unpublished(data)
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=10)

    with data.read_sessions() as session:
        events = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert not [e.id for e in events if e.dead_lettered_at is not None]
    by_aggregate: dict[uuid.UUID, list[OutboxEvent]] = defaultdict(list)
    for event in events:
        by_aggregate[event.aggregate_id].append(event)
    for aggregate, in_order in by_aggregate.items():
        published = [event.published_at for event in in_order if event.published_at is not None]
        assert published == sorted(published), f"{aggregate} went out of order"
    waiting = [event for event in events if event.published_at is None]
    assert all(event.event_type.startswith("notice.") for event in waiting)
    assert len(waiting) == SLOTS  # the reminders, due the day before each visit
    assert len(medplum.search("ServiceRequest?_count=200")) == REFERRALS
    assert len(medplum.search("Task?_count=200")) == REFERRALS
    assert len(medplum.search("Appointment?_count=200")) == SLOTS
