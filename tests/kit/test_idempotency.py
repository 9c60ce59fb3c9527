"""A retried creating request with the same Idempotency-Key gets the first answer again."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.access.audit.models import AuditEvent
from app.kit.idempotency import Idempotency, IdempotencyRecord
from app.patients.models import Patient
from tests.referrals.test_lock_order import finish, start_until_waiting

Auth = Callable[[str], dict[str, str]]
BODY = {
    "hetu": "241288-9960",
    "given_name": "Kaarina",
    "family_name": "Testinen",
    "home_municipality_code": "152",
}


def patients_named_kaarina(session: Session) -> int:
    statement = select(func.count()).where(Patient.given_name == "Kaarina")
    return session.scalar(statement) or 0


def test_a_retry_replays_the_first_answer(client: TestClient, auth: Auth, session: Session) -> None:
    headers = {**auth("nurse.isokyro"), "Idempotency-Key": "register-kaarina-1"}
    first = client.post("/api/v1/patients", json=BODY, headers=headers)
    retry = client.post("/api/v1/patients", json=BODY, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert patients_named_kaarina(session) == 1
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None
    assert (last.action, str(last.patient_id)) == ("read", first.json()["id"])
    record = session.scalars(select(IdempotencyRecord)).one()
    assert "241288" not in record.request_hash
    assert "241288" not in (record.response or "")


def test_the_same_key_with_another_body_is_refused(client: TestClient, auth: Auth) -> None:
    headers = {**auth("nurse.isokyro"), "Idempotency-Key": "register-kaarina-2"}
    assert client.post("/api/v1/patients", json=BODY, headers=headers).status_code == 201
    changed = {**BODY, "given_name": "Karin"}
    response = client.post("/api/v1/patients", json=changed, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_user(client: TestClient, auth: Auth, session: Session) -> None:
    key = {"Idempotency-Key": "shared-key"}
    first = client.post("/api/v1/patients", json=BODY, headers={**auth("nurse.isokyro"), **key})
    other = client.post("/api/v1/patients", json=BODY, headers={**auth("doctor.isokyro"), **key})
    assert first.status_code == 201
    # Another user's identical key is not a retry: the ordinary duplicate rule answers.
    assert other.status_code == 409
    assert other.json()["code"] == "patient_exists"


def test_without_a_key_a_repeat_is_not_a_retry(client: TestClient, auth: Auth) -> None:
    headers = auth("nurse.isokyro")
    assert client.post("/api/v1/patients", json=BODY, headers=headers).status_code == 201
    assert client.post("/api/v1/patients", json=BODY, headers=headers).status_code == 409


def test_a_malformed_key_is_a_validation_error(client: TestClient, auth: Auth) -> None:
    headers = {**auth("nurse.isokyro"), "Idempotency-Key": "x" * 201}
    response = client.post("/api/v1/patients", json=BODY, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


class _Body(BaseModel):
    name: str


@pytest.mark.postgres_only
def test_a_twin_waits_for_the_first_request_and_replays_its_answer(engine: Engine) -> None:
    database = db.Database(engine)
    claim = {"owner": f"tests|{uuid.uuid4()}", "scope": "tests.twins", "key": "twin-1"}
    body = _Body(name="Kaarina")
    replayed: list[_Body | None] = []

    def twin(session: Session) -> None:
        replayed.append(Idempotency(session, **claim, body=body).replay(_Body))

    try:
        with database.write_sessions() as first, first.begin():
            taken = Idempotency(first, **claim, body=body)
            waiting = start_until_waiting(database, twin)
            assert waiting.is_alive(), "the twin did not wait for the first request"
            taken.remember(body)
        assert finish(waiting) == ["done"]
        assert replayed == [body]
    finally:
        with database.write_sessions() as session, session.begin():
            session.execute(delete(IdempotencyRecord).filter_by(**claim))
