"""Each audit entry says exactly what happened: the rows a page showed, a look-up that found
nothing, the transition that was tried, the record a filter named, the account a signed token
claimed; and the access line names who was turned away."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.dev_issuer import DevIssuer
from app.access.models import User
from app.access.principal import LOCAL_ISSUER
from app.observability import JsonFormatter
from tests.fixtures.factories import act, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]


def newest(session: Session, count: int = 1) -> list[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(count)
    return list(reversed(session.scalars(statement).all()))


def test_a_worklist_page_records_the_rows_it_shows(
    client: TestClient, auth: Auth, session: Session
) -> None:
    for index in range(3):
        send_referral(client, auth, demo_patient(session, "399", index).id)
    before = session.scalar(select(func.max(AuditEvent.seq)))
    page = client.get("/api/v1/referrals", params={"limit": 2}, headers=auth("doctor.laihia"))
    assert page.json()["next_cursor"] is not None
    shown = [item["id"] for item in page.json()["items"]]
    entries = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [(e.action, e.resource_id) for e in entries] == [("query", i) for i in shown]


def test_a_lookup_that_finds_nothing_is_a_query(
    client: TestClient, auth: Auth, session: Session
) -> None:
    response = client.post(
        "/api/v1/patients/lookup", json={"hetu": "150377-9011"}, headers=auth("doctor.laihia")
    )
    assert response.status_code == 404
    [entry] = newest(session)
    assert (entry.action, entry.outcome, entry.resource_type) == ("query", "not_found", "Patient")


@pytest.mark.parametrize(
    ("user", "outcome"), [("doctor.laihia", "refused"), ("counsellor1.kaskinen", "not_found")]
)
def test_a_refused_transition_is_recorded_as_that_transition(
    client: TestClient, auth: Auth, session: Session, user: str, outcome: str
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399").id)
    assert act(client, auth, user, referral, "accept").status_code in (403, 404)
    [entry] = newest(session)
    assert (entry.action, entry.outcome, entry.resource_id) == ("accept", outcome, referral["id"])
    taken = act(client, auth, "counsellor1.laihia", referral, "accept")
    assert taken.status_code == 200, taken.text
    assert newest(session)[-1].action == "accept"


def test_a_list_filtered_to_a_record_one_may_not_see_is_a_refusal(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399").id)
    response = client.get(
        "/api/v1/appointments",
        params={"referral_id": referral["id"]},
        headers=auth("doctor.kaskinen"),
    )
    assert response.status_code == 404
    [entry] = newest(session)
    assert (entry.action, entry.outcome, entry.resource_type, entry.resource_id) == (
        "read", "not_found", "Referral", referral["id"])  # fmt: skip
    assert str(entry.patient_id) == referral["patient_id"]


def account(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


@pytest.mark.parametrize("why", ["deactivated", "unknown", "another organisation"])
def test_a_signed_token_refused_for_its_account_names_subject_and_issuer(
    app: FastAPI, client: TestClient, session: Session, why: str
) -> None:
    issuer: DevIssuer = app.state.dev_issuer
    doctor = account(session, "doctor.laihia")
    token, _ = issuer.issue(doctor, "ts-kaskinen" if why == "another organisation" else "ts-laihia")
    if why == "deactivated":
        doctor.active = False
    elif why == "unknown":
        doctor.username = "doctor.gone"
    session.flush()
    response = client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    [entry] = newest(session)
    expected_org = "ts-kaskinen" if why == "another organisation" else "ts-laihia"
    assert (entry.actor, entry.actor_issuer, entry.actor_organisation) == (
        "doctor.laihia", LOCAL_ISSUER, expected_org)  # fmt: skip
    assert (entry.action, entry.outcome, entry.resource_type) == ("read", "refused", "Account")


def test_the_access_line_of_a_refusal_names_the_client(
    client: TestClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="askel.access")

    def line(response: Any) -> dict[str, Any]:
        record = [r for r in caplog.records if r.name == "askel.access"][-1]
        parsed: dict[str, Any] = json.loads(JsonFormatter().format(record))
        assert parsed["status"] == response.status_code
        return parsed

    refused = client.get("/api/v1/audit/events", headers=auth("doctor.laihia"))
    assert line(refused)["client"] == "testclient"
    unknown = client.get(f"/api/v1/referrals/{uuid.uuid4()}", headers=auth("doctor.laihia"))
    assert line(unknown)["client"] == "testclient"
    assert "client" not in line(client.get("/healthz"))
