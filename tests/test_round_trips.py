"""The round trips to the database of the hot paths, counted through the API with real tokens:
opening a referral, searching slots, booking, recording a visit. Each count is exact, so that
one statement more fails here and says which (`tests/fixtures/round_trips.py` counts them; in
the tests a request's BEGIN and COMMIT are a SAVEPOINT and its RELEASE).

A count raised must be wanted: name the statement and why it is needed beside the number.
The authorisation is never cached: the account and its grant are read on every request, and a
revoked grant or a disabled account counts on the very next one (tested below).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.access.grants.models import AccessGrant
from app.access.models import User
from app.kit.clock import today_in_helsinki, utcnow
from app.statistics import repository as statistics
from tests.fixtures.calendar_scene import weekly_rules
from tests.fixtures.factories import act, backdate, demo_patient, send_referral
from tests.fixtures.round_trips import RoundTrips

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"
CLINICIAN = "doctor.laihia"
ADMIN = "admin.laihia"

# The round trips of each path, by database. Each has its transaction's BEGIN and COMMIT and
# the account's SELECT (with its organisation and grants). On PostgreSQL a change to a referral
# locks the patient's row, then reads the referral as it locks its row (2, where SQLite reads
# it once), and a booking takes the counsellor's lock (1); SQLite lets one writer at a time,
# whose reads are current. A change's outbox rows go in one statement on PostgreSQL; SQLite
# gives back the ids of several inserted rows in no promised order, so each row is one there.
BUDGETS: dict[str, dict[str, int]] = {
    # The referral; it is marked received (the referral locked and read again): its row, event,
    # outbox row; the audit entry; the statistics note.
    "open a sent referral": {"sqlite": 9, "postgresql": 11},
    # The referral; the audit entry.
    "open a referral": {"sqlite": 5, "postgresql": 5},
    # The slots, with their counsellors' names and places left.
    "search slots": {"sqlite": 4, "postgresql": 4},
    # The referral; the slot; the slot again with its places taken and its counsellor's other
    # bookings; the slot's count and the appointment, each refusing quietly (2); the event; the
    # outbox rows (the referral's, the patient's notice and reminder: 3 on SQLite, 1 on
    # PostgreSQL); the audit entry; the statistics note.
    "book": {"sqlite": 14, "postgresql": 14},
    # And the key claimed; its answer kept.
    "book with a key": {"sqlite": 16, "postgresql": 16},
    # The referral; the visit; the referral put in progress with its event, outbox row and
    # audit entry; the visit's event, outbox row and audit entry; the referral's first visit,
    # for the answer's THL classification; the statistics note.
    "record a visit": {"sqlite": 14, "postgresql": 15},
}


def assert_within_budget(counted: RoundTrips, path: str) -> None:
    budget = BUDGETS[path][counted.dialect]
    assert len(counted) == budget, (
        f"{path}: {len(counted)} round trips on {counted.dialect}, budgeted {budget}:\n"
        f"{counted.shown()}"
    )


def user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


@pytest.fixture
def counsellor(client: TestClient, auth: Auth) -> dict[str, str]:
    """The counsellor's headers, after a first request today: the first one of a day also
    notes the grant's use for the access review (a round trip once a day)."""
    headers = auth(COUNSELLOR)
    assert client.get("/api/v1/services", headers=headers).status_code == 200
    return headers


@pytest.fixture
def referral(client: TestClient, auth: Auth, session: Session) -> dict[str, Any]:
    return send_referral(client, auth, demo_patient(session, "399").id, sender=CLINICIAN)


def open_referral(client: TestClient, headers: dict[str, str], referral: dict[str, Any]) -> Any:
    return client.get(f"/api/v1/referrals/{referral['id']}", headers=headers)


def test_opening_a_referral(
    client: TestClient,
    counsellor: dict[str, str],
    referral: dict[str, Any],
    round_trips: RoundTrips,
) -> None:
    with round_trips.counting():
        first = open_referral(client, counsellor, referral)
    assert first.json()["status"] == "received"
    assert_within_budget(round_trips, "open a sent referral")
    with round_trips.counting():
        again = open_referral(client, counsellor, referral)
    assert again.status_code == 200
    assert_within_budget(round_trips, "open a referral")


@pytest.fixture
def slots_of(
    client: TestClient, auth: Auth, session: Session, counsellor: dict[str, str]
) -> dict[str, str]:
    """The query for the counsellor's service's slots from tomorrow, after the counsellor has
    opened their calendar every day from nine to noon."""
    rules = weekly_rules(
        today_in_helsinki() - timedelta(days=1), location="Laihian liikuntahalli", languages=["fi"]
    )
    account = user(session, COUNSELLOR)
    opened = client.put(
        f"/api/v1/counsellors/{account.id}/availability",
        json={"rules": rules, "exceptions": []},
        headers=counsellor,
    )
    assert opened.status_code == 200, opened.text
    start = (utcnow() + timedelta(days=1)).isoformat()
    return {"service_id": str(account.service_id), "start": start}


def first_slot(client: TestClient, auth: Auth, query: dict[str, str]) -> dict[str, Any]:
    found = client.get("/api/v1/slots", params=query, headers=auth(CLINICIAN))
    assert found.status_code == 200, found.text
    slot: dict[str, Any] = found.json()["items"][0]
    return slot


def test_searching_slots(
    client: TestClient, auth: Auth, slots_of: dict[str, str], round_trips: RoundTrips
) -> None:
    headers = auth(CLINICIAN)
    with round_trips.counting():
        found = client.get("/api/v1/slots", params=slots_of, headers=headers)
    assert len(found.json()["items"]) == 50
    assert_within_budget(round_trips, "search slots")


@pytest.mark.parametrize("key", [None, "booking-2026-11-30-001"], ids=["plain", "with a key"])
def test_booking(
    client: TestClient,
    auth: Auth,
    slots_of: dict[str, str],
    referral: dict[str, Any],
    round_trips: RoundTrips,
    key: str | None,
) -> None:
    slot = first_slot(client, auth, slots_of)
    headers = {**auth(CLINICIAN), **({"Idempotency-Key": key} if key else {})}
    body = {"slot_id": slot["id"], "referral_id": referral["id"]}
    with round_trips.counting():
        booked = client.post("/api/v1/appointments", json=body, headers=headers)
    assert booked.status_code == 201, booked.text
    assert_within_budget(round_trips, "book with a key" if key else "book")
    if key:
        retry = client.post("/api/v1/appointments", json=body, headers=headers)
        assert (retry.status_code, retry.json()) == (201, booked.json())


def test_recording_a_visit(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor: dict[str, str],
    referral: dict[str, Any],
    round_trips: RoundTrips,
) -> None:
    opened = open_referral(client, counsellor, referral).json()
    assert act(client, auth, COUNSELLOR, opened, "accept").status_code == 200
    backdate(session, referral["id"], 30)
    visit = {
        "visited_on": str(today_in_helsinki() - timedelta(days=7)),
        "contact_type": "in_person",
        "duration_minutes": 60,
        "mvpa_days_per_week": 2,
        "mvpa_minutes_per_day": 20,
        "strength_days_per_week": 0,
        "sitting_hours_per_day": 9.5,
        "stage_of_change": "preparation",
    }
    with round_trips.counting():
        recorded = client.post(
            f"/api/v1/referrals/{referral['id']}/visits", json=visit, headers=counsellor
        )
    assert recorded.status_code == 201, recorded.text
    assert_within_budget(round_trips, "record a visit")
    assert open_referral(client, counsellor, referral).json()["status"] == "in_progress"


def test_a_revoked_grant_counts_on_the_very_next_request(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor: dict[str, str],
    referral: dict[str, Any],
) -> None:
    assert open_referral(client, counsellor, referral).status_code == 200
    account = user(session, COUNSELLOR)
    grants = session.scalars(
        select(AccessGrant.id).where(
            AccessGrant.user_id == account.id, AccessGrant.revoked_at.is_(None)
        )
    ).all()
    assert grants
    for grant_id in grants:
        revoked = client.post(
            f"/api/v1/admin/access-grants/{grant_id}/revoke",
            json={"reason": "Siirtyi muihin tehtäviin."},
            headers=auth(ADMIN),
        )
        assert revoked.status_code == 200, revoked.text
    # The same token: without the grant the counsellor is no longer one of the service's.
    assert open_referral(client, counsellor, referral).status_code == 404


def test_a_disabled_account_counts_on_the_very_next_request(
    client: TestClient,
    session: Session,
    counsellor: dict[str, str],
    referral: dict[str, Any],
) -> None:
    assert open_referral(client, counsellor, referral).status_code == 200
    session.execute(update(User).where(User.username == COUNSELLOR).values(active=False))
    session.flush()
    refused = open_referral(client, counsellor, referral)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "invalid_token"


def test_the_grant_is_read_with_the_account_on_every_request(
    client: TestClient,
    counsellor: dict[str, str],
    referral: dict[str, Any],
    round_trips: RoundTrips,
) -> None:
    for _ in range(2):
        with round_trips.counting():
            assert open_referral(client, counsellor, referral).status_code == 200
        accounts = [sql for sql in round_trips.statements if "FROM users" in sql]
        assert len(accounts) == 1, round_trips.shown()
        assert "access_grants" in accounts[0], round_trips.shown()
        assert not any(
            "access_grants" in sql for sql in round_trips.statements if sql not in accounts
        )


def test_the_first_request_of_a_day_notes_the_grant_in_use(
    client: TestClient,
    auth: Auth,
    session: Session,
    referral: dict[str, Any],
    round_trips: RoundTrips,
) -> None:
    account = user(session, COUNSELLOR)
    yesterday = today_in_helsinki() - timedelta(days=1)
    session.execute(
        update(AccessGrant).where(AccessGrant.user_id == account.id).values(last_used_on=yesterday)
    )
    session.flush()
    headers = auth(COUNSELLOR)
    with round_trips.counting():
        open_referral(client, headers, referral)
    noted = [sql for sql in round_trips.statements if sql.startswith("UPDATE access_grants")]
    assert len(noted) == 1, round_trips.shown()
    assert len(round_trips) == BUDGETS["open a sent referral"][round_trips.dialect] + 1
    with round_trips.counting():
        open_referral(client, headers, referral)
    assert len(round_trips) == BUDGETS["open a referral"][round_trips.dialect]


def test_a_transaction_of_its_own_counts_its_begin_commit_and_the_pools_ping(
    engine: Engine,
) -> None:
    """The tests' requests share one connection, where SAVEPOINT and RELEASE stand for what the
    service's own engine sends: its BEGIN and COMMIT, and on PostgreSQL the ping with which the
    pool hands out a connection again."""
    database = db.Database(engine)
    with RoundTrips(engine).listening() as counted:
        with database.write_sessions() as session, session.begin():
            session.execute(text("SELECT 1"))  # a connection in the pool
        with counted.counting(), database.write_sessions() as session, session.begin():
            session.execute(text("SELECT 1"))
    expected = {
        "sqlite": ["BEGIN IMMEDIATE", "SELECT 1", "COMMIT"],
        "postgresql": ["SELECT 1 -- the pool's ping", "BEGIN", "SELECT 1", "COMMIT"],
    }
    assert counted.statements == expected[counted.dialect]


@pytest.mark.postgres_only
def test_a_statistics_query_sets_its_transaction_up_in_one_round_trip(
    session: Session, round_trips: RoundTrips
) -> None:
    with round_trips.counting():
        statistics.visit_counts(
            session, ["contact_type"], date(2025, 1, 1), date(2025, 12, 31), statistics.Scope(None)
        )
    settings = [sql for sql in round_trips.statements if "set_config" in sql or "SET " in sql]
    assert len(settings) == 1, round_trips.shown()
    shown = [session.scalar(text(f"SHOW {name}")) for name in ("work_mem", "plan_cache_mode")]
    assert shown == [statistics.SORT_MEMORY, "force_custom_plan"]
