"""The statistics facts follow the writes after commit: a write notes the referrals it touched
(once each, in its own transaction, a patient's change all of theirs) and makes no facts; a
refresh makes the noted referrals' facts in batches, once however many writes noted one, and
nothing else in the outbox holds it back. On PostgreSQL, refreshes share the notes without
waiting for each other, and a writer waits for no refresh of another referral."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.counselling.models import Visit
from app.jobs.models import OutboxEvent
from app.jobs.worker import MAX_ATTEMPTS
from app.kit.clock import today_in_helsinki, utcnow
from app.referrals.models import Referral
from app.statistics import follow
from app.statistics.models import ReferralFact, StaleReferral
from tests.fixtures.databases import seeded_database
from tests.fixtures.factories import act, demo_patient, send_referral
from tests.fixtures.facts import facts_follow
from tests.referrals.test_lock_order import finish, sent_referral, start_until_waiting

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"


def notes(session: Session, referral_id: uuid.UUID | str | None = None) -> list[uuid.UUID]:
    statement = select(StaleReferral.referral_id).order_by(StaleReferral.id)
    if referral_id is not None:
        statement = statement.where(StaleReferral.referral_id == uuid.UUID(str(referral_id)))
    return list(session.scalars(statement))


def fact(session: Session, referral_id: str) -> ReferralFact | None:
    return session.get(ReferralFact, uuid.UUID(referral_id), populate_existing=True)


def test_a_write_notes_its_referral_once_and_leaves_the_facts_to_the_refresh(
    client: TestClient, auth: Auth, session: Session
) -> None:
    # Sending writes the referral, its event and an outbox row, over several flushes.
    referral = send_referral(client, auth, demo_patient(session, "399", 0).id)
    assert notes(session, referral["id"]) == [uuid.UUID(referral["id"])]
    assert fact(session, referral["id"]) is None
    assert facts_follow(session) == 1
    made = fact(session, referral["id"])
    assert made is not None
    assert (made.municipality, made.accepted) == ("399", 0)
    assert notes(session) == []


def test_many_writes_to_one_referral_are_refreshed_once(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399", 1).id)
    accepted = act(client, auth, COUNSELLOR, referral, "accept")
    assert accepted.status_code == 200, accepted.text
    assert len(notes(session, referral["id"])) == 2
    assert follow.refresh_due(session, limit=1) == 1
    assert notes(session) == []
    made = fact(session, referral["id"])
    assert made is not None
    assert made.accepted == 1


def test_a_patients_change_notes_every_referral_of_theirs(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient = demo_patient(session, "399", 2)
    first = send_referral(client, auth, patient.id)
    second = send_referral(client, auth, patient.id)
    facts_follow(session)
    patient.home_municipality_code = "152"
    session.commit()
    assert sorted(notes(session)) == sorted(uuid.UUID(r["id"]) for r in (first, second))
    facts_follow(session)
    made = [fact(session, r["id"]) for r in (first, second)]
    assert [f.municipality if f else None for f in made] == ["152", "152"]


def test_a_core_write_noted_by_hand_is_refreshed(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399", 9).id)
    facts_follow(session)
    sent = datetime(2025, 6, 1, 9, tzinfo=UTC)
    referral_id = uuid.UUID(referral["id"])
    session.execute(update(Referral).where(Referral.id == referral_id).values(created_at=sent))
    assert facts_follow(session) == 0  # the listeners see no Core statement
    follow.note(session, [referral_id])
    assert facts_follow(session) == 1
    made = fact(session, referral["id"])
    assert made is not None
    assert (made.sent_at, made.month) == (sent, 6)


def test_a_write_rolled_back_leaves_no_note(session: Session) -> None:
    patient = demo_patient(session, "399", 3)
    patient.language = "sv"
    session.flush()
    session.rollback()
    assert notes(session) == []


def test_a_referrals_dead_lettered_fhir_event_holds_its_statistics_nothing_back(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399", 4).id)
    published = session.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(referral["id"]))
    ).all()
    assert published
    for event in published:
        event.attempts, event.dead_lettered_at = MAX_ATTEMPTS, utcnow()
    session.commit()
    facts_follow(session)
    assert fact(session, referral["id"]) is not None


def test_the_refresh_goes_in_batches_each_in_a_transaction_of_its_own(
    client: TestClient, auth: Auth, session: Session, connection: Connection
) -> None:
    referrals = [send_referral(client, auth, demo_patient(session, "399", i).id) for i in (5, 6, 7)]
    assert follow.catch_up(db.Database(connection), batch=2) == 3
    assert notes(session) == []
    assert all(fact(session, r["id"]) is not None for r in referrals)
    assert follow.catch_up(db.Database(connection)) == 0


class _Once(threading.Event):
    """A stop that is set the first time the loop waits: one round of `run_forever`."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_the_loop_refreshes_what_waits_and_stops_when_told(
    client: TestClient, auth: Auth, session: Session, connection: Connection
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399", 8).id)
    follow.run_forever(db.Database(connection), _Once(), poll_seconds=0)
    assert fact(session, referral["id"]) is not None
    assert notes(session) == []


def test_the_lag_is_the_oldest_notes_age_and_zero_when_none_waits(session: Session) -> None:
    now = utcnow()
    assert follow.lag(session).seconds(now) == 0.0
    referral_id = uuid.uuid4()
    session.add_all([StaleReferral(referral_id=referral_id, touched_at=now),
                     StaleReferral(referral_id=referral_id, touched_at=now)])  # fmt: skip
    session.flush()
    waiting = follow.lag(session)
    assert waiting.referrals == 1
    assert waiting.seconds(now) >= 0.0


# On PostgreSQL, with transactions of their own ------------------------------------------------


@pytest.fixture(scope="module")
def database(
    tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str
) -> Iterator[db.Database]:
    directory = tmp_path_factory.mktemp("follow")
    with seeded_database(directory, f"askel_follow_{worker_id_suffix}") as database:
        yield database


def _record_visit(referral_id: uuid.UUID) -> Callable[[Session], object]:
    def record(session: Session) -> object:
        referral = session.get_one(Referral, referral_id)
        session.add(Visit(
            referral_id=referral.id, patient_id=referral.patient_id,
            service_id=referral.service_id, counsellor_subject="counsellor1.kaskinen",
            counsellor_profession="counsellor", visited_on=today_in_helsinki(),
            contact_type="phone", duration_minutes=30,
        ))  # fmt: skip
        return referral

    return record


@pytest.mark.postgres_only
def test_refreshes_share_the_notes_and_writers_wait_for_none_of_another_referral(
    database: db.Database,
) -> None:
    first, second, third = (sent_referral(database, "231", index) for index in range(3))
    with database.write_sessions() as holder, holder.begin():
        # One refresh holds the first referral's notes (and its lock) uncommitted.
        assert follow.refresh_due(holder, limit=1) == 1
        # Another takes the rest, without waiting for the first.
        with database.write_sessions() as other, other.begin():
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert follow.refresh_due(other) == 2
        # A write to another referral meanwhile commits, and notes it.
        writer = start_until_waiting(database, _record_visit(third))
        assert finish(writer) == ["done"]
    with database.read_sessions() as session:
        assert notes(session) == [third]
        made = session.scalars(
            select(func.count())
            .select_from(ReferralFact)
            .where(ReferralFact.referral_id.in_([first, second, third]))
        ).one()
        assert made == 3
    assert follow.catch_up(database) == 1
