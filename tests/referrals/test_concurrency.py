"""Two people taking the same referral at once: exactly one transition wins, on a database that
really commits (not the rolled-back test transaction)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from app import db
from app.config import Settings
from app.demo.region import seed
from app.main import create_app
from app.referrals.models import ReferralEvent
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import demo_patient, send_referral

ROUNDS = 8


@pytest.fixture
def committing_app(
    tmp_path: Path, settings: Settings, worker_id_suffix: str
) -> Iterator[tuple[FastAPI, db.Database]]:
    url = fresh_database_url(tmp_path, f"askel_race_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    with database.write_sessions() as session, session.begin():
        seed(session)
    yield create_app(settings.model_copy(update={"database_url": url}), database=database), database
    database.dispose()


def test_two_concurrent_accepts_exactly_one_wins(
    committing_app: tuple[FastAPI, db.Database],
) -> None:
    app, database = committing_app
    with TestClient(app) as first, TestClient(app) as second:

        def auth(user: str) -> dict[str, str]:
            token = first.post("/dev/token", json={"username": user}).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        with database.read_sessions() as session:
            patients = [demo_patient(session, "231", i).id for i in range(ROUNDS)]
        headers = {"1": auth("counsellor1.kaskinen"), "2": auth("counsellor2.kaskinen")}
        for patient_id in patients:
            referral = send_referral(first, auth, patient_id, sender="doctor.kaskinen")
            url = f"/api/v1/referrals/{referral['id']}/accept"
            codes = race(
                lambda url=url: (
                    first.post(url, headers={**headers["1"], "If-Match": '"1"'}).status_code
                ),
                lambda url=url: (
                    second.post(url, headers={**headers["2"], "If-Match": '"1"'}).status_code
                ),
            )
            assert sorted(codes) == [200, 412]
            with database.read_sessions() as session:
                accepts = select(func.count()).where(
                    ReferralEvent.referral_id == uuid.UUID(referral["id"]),
                    ReferralEvent.action == "accept",
                )
                assert session.scalar(accepts) == 1


def race(*calls: Callable[[], int]) -> list[int]:
    """Start every call at the same moment, each in its own thread; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_counsellors_opening_a_new_referral_at_once_both_read_it(
    committing_app: tuple[FastAPI, db.Database],
) -> None:
    app, database = committing_app
    with TestClient(app) as first, TestClient(app) as second:

        def auth(user: str) -> dict[str, str]:
            token = first.post("/dev/token", json={"username": user}).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        with database.read_sessions() as session:
            patients = [demo_patient(session, "231", i).id for i in range(ROUNDS)]
        one, two = auth("counsellor1.kaskinen"), auth("counsellor2.kaskinen")
        for patient_id in patients:
            referral = send_referral(first, auth, patient_id, sender="doctor.kaskinen")
            url = f"/api/v1/referrals/{referral['id']}"
            codes = race(
                lambda url=url: first.get(url, headers=one).status_code,
                lambda url=url: second.get(url, headers=two).status_code,
            )
            assert codes == [200, 200]
            with database.read_sessions() as session:
                receives = select(func.count()).where(
                    ReferralEvent.referral_id == uuid.UUID(referral["id"]),
                    ReferralEvent.action == "receive",
                )
                assert session.scalar(receives) == 1
