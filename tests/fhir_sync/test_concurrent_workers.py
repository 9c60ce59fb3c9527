"""Several sync workers at once on PostgreSQL (`FOR UPDATE SKIP LOCKED`), on a database that
really commits, against the Medplum peer: every event published once, every resource on the
peer once, whichever worker took which event."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from app import db
from app.fhir_sync import publisher
from app.fhir_sync.client import FhirClient, NoToken
from app.jobs.models import OutboxEvent
from app.jobs.worker import run_once
from app.patients.models import Patient
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from tests.fixtures.databases import seeded_database
from tests.fixtures.factories import referral_body
from tests.fixtures.peers import MedplumPeer
from tests.fixtures.principals import principal_for

pytestmark = pytest.mark.postgres_only
WORKERS = 4


@pytest.fixture
def database(
    tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str
) -> Iterator[db.Database]:
    directory = tmp_path_factory.mktemp("sync")
    with seeded_database(directory, f"askel_sync_{worker_id_suffix}") as database:
        yield database


def test_four_workers_publish_everything_exactly_once(
    database: db.Database, medplum: MedplumPeer
) -> None:
    with database.write_sessions() as session, session.begin():
        doctor = principal_for(session, "doctor.laihia")
        patients = session.scalars(select(Patient).order_by(Patient.birth_date)).all()
        # Two referrals for some patients, so that workers meet over a shared Patient.
        for patient in [*patients[:12], *patients[:4]]:
            body = referral_body(patient.id, preferred_language=patient.language)
            referral_service.send(session, doctor, ReferralCreate.model_validate(body))
        events = session.scalar(select(func.count()).select_from(OutboxEvent)) or 0
    clients = [FhirClient(medplum.base_url, httpx.Client(timeout=30.0), NoToken())
               for _ in range(WORKERS)]  # fmt: skip
    failures: list[BaseException] = []

    def work(client: FhirClient) -> None:
        handlers = {publisher.PREFIX: publisher.handler(client)}
        try:
            while run_once(database, handlers, batch=3):
                pass
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for client in clients:
        client.close()
    assert failures == []
    with database.read_sessions() as session:
        published = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.published_at.is_not(None))
        )
        assert published == events
        failed = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.attempts > 0)
        )
    kinds = Counter(
        {
            kind: len(medplum.search(f"{kind}?_count=200"))
            for kind in ("Patient", "ServiceRequest", "Task")
        }
    )
    assert kinds == Counter(Patient=12, ServiceRequest=16, Task=16)
    assert failed == 0
