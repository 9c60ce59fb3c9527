"""`askel worker` processes on PostgreSQL publishing to the Medplum peer, one of them killed with
SIGKILL in the middle: nothing is lost and nothing is twice at the peer."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import db
from app.demo.region import seed
from app.jobs.models import OutboxEvent
from app.patients.models import Patient
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import referral_body
from tests.fixtures.peers import MedplumPeer
from tests.fixtures.principals import principal_for
from tests.fixtures.serving import wait_for, worker

pytestmark = pytest.mark.postgres_only
REFERRALS = 40


@pytest.fixture
def database(tmp_path: Path, worker_id_suffix: str) -> Iterator[tuple[str, db.Database]]:
    url = fresh_database_url(tmp_path, f"askel_kill_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    with database.write_sessions() as session, session.begin():
        seed(session)
        doctor = principal_for(session, "doctor.laihia")
        patients = session.scalars(select(Patient).order_by(Patient.birth_date)).all()
        for number in range(REFERRALS):
            patient = patients[number % len(patients)]
            body = referral_body(patient.id, preferred_language=patient.language)
            referral_service.send(session, doctor, ReferralCreate.model_validate(body))
    yield url, database
    database.dispose()


def _published(database: db.Database) -> int:
    with database.read_sessions() as session:
        statement = select(func.count()).select_from(OutboxEvent)
        return session.scalar(statement.where(OutboxEvent.published_at.is_not(None))) or 0


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    database: tuple[str, db.Database], medplum: MedplumPeer, tmp_path: Path
) -> None:
    url, data = database
    workers = [worker(url, medplum.base_url, tmp_path), worker(url, medplum.base_url, tmp_path)]
    try:
        assert wait_for(lambda: _published(data) >= 5, 60), "the workers published nothing"
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        assert _published(data) < REFERRALS, "too late to kill anyone mid-way"
        workers.append(worker(url, medplum.base_url, tmp_path))
        assert wait_for(lambda: _published(data) == REFERRALS, 120), _published(data)
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=10)
    assert len(medplum.search("ServiceRequest?_count=200")) == REFERRALS
    assert len(medplum.search("Task?_count=200")) == REFERRALS
    with data.read_sessions() as session:
        dead = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.dead_lettered_at.is_not(None))
        )
    assert dead == 0
