"""Who may use each referral endpoint. A referral the caller may not know exists answers 404;
a role without the function answers 403; every refusal is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from tests.fixtures.factories import act, demo_patient, referral_body, send_referral

Auth = Callable[[str], dict[str, str]]

# Roles whose function does not include referrals at all.
NO_REFERRAL_ROLE = ["statistician.region", "auditor.region", "admin.region", "admin.laihia",
                    "patient-system"]  # fmt: skip
OTHER_COUNSELLOR = "counsellor1.kaskinen"
OTHER_UNIT_CLINICIAN = "doctor.isokyro"


@pytest.fixture
def referral(client: TestClient, auth: Auth, session: Session) -> dict[str, Any]:
    return send_referral(client, auth, demo_patient(session, "399").id)


def last_audit(session: Session) -> AuditEvent:
    statement = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    return session.scalars(statement).one()


# A valid body for each action, so that nothing but the access rule can refuse it.
ACTION_BODIES = {
    "reject": {"reason_code": "not_eligible", "reason_text": "x"},
    "return": {"reason_code": "other", "reason_text": "x"},
    "complete": {"reason_code": "goals_met", "reason_text": "x", "outcome_summary": "x"},
    "cancel": {"cancelled_by": "patient", "reason_code": "other", "reason_text": "x"},
}
RECORD_ENDPOINTS = [
    ("GET", "/api/v1/referrals/{id}"),
    ("GET", "/api/v1/referrals/{id}/events"),
    *[
        ("POST", f"/api/v1/referrals/{{id}}/{action}")
        for action in ("accept", "reject", "return", "start", "complete", "cancel",
                       "book-by-service")
    ],
]  # fmt: skip


@pytest.mark.parametrize("user", NO_REFERRAL_ROLE)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/referrals"),
        ("POST", "/api/v1/referrals"),
        ("GET", "/api/v1/referral-reasons"),
    ],
)
def test_roles_without_the_function_get_403_and_an_audit_entry(
    client: TestClient,
    auth: Auth,
    session: Session,
    referral: dict[str, Any],
    user: str,
    method: str,
    path: str,
) -> None:
    url = path.format(id=referral["id"])
    body = referral_body(referral["patient_id"]) if path == "/api/v1/referrals" else {}
    response = client.request(method, url, json=body if method == "POST" else None,
                              headers={**auth(user), "If-Match": '"1"'})  # fmt: skip
    assert response.status_code == 403, response.text
    event = last_audit(session)
    assert (event.actor, event.outcome) == (user, "refused")


@pytest.mark.parametrize("user", [OTHER_COUNSELLOR, OTHER_UNIT_CLINICIAN, *NO_REFERRAL_ROLE])
@pytest.mark.parametrize(("method", "path"), RECORD_ENDPOINTS)
def test_others_do_not_know_the_referral_exists(
    client: TestClient,
    auth: Auth,
    session: Session,
    referral: dict[str, Any],
    user: str,
    method: str,
    path: str,
) -> None:
    headers = {**auth(user), "If-Match": '"1"'}
    body = ACTION_BODIES.get(path.rsplit("/", 1)[-1], {}) if method == "POST" else None
    unknown_id = "00000000-0000-4000-8000-000000000000"
    unknown = client.request(method, path.format(id=unknown_id), headers=headers, json=body)
    hidden = client.request(method, path.format(id=referral["id"]), headers=headers, json=body)
    assert hidden.status_code == unknown.status_code == 404, hidden.text
    assert hidden.json()["detail"] == unknown.json()["detail"]
    event = last_audit(session)
    assert (event.actor, event.outcome, event.resource_id) == (user, "not_found", referral["id"])
    assert str(event.patient_id) == referral["patient_id"]


@pytest.mark.parametrize(
    ("user", "action", "body"),
    [
        (OTHER_COUNSELLOR, "accept", {}),
        (OTHER_COUNSELLOR, "reject", {"reason_code": "not_eligible", "reason_text": "x"}),
        (OTHER_COUNSELLOR, "cancel", {"cancelled_by": "provider", "reason_code": "other",
                                      "reason_text": "x"}),
        (OTHER_UNIT_CLINICIAN, "cancel", {"cancelled_by": "patient", "reason_code": "other",
                                          "reason_text": "x"}),
        (OTHER_UNIT_CLINICIAN, "book-by-service", {}),
    ],
)  # fmt: skip
def test_others_cannot_act_on_it(
    client: TestClient,
    auth: Auth,
    session: Session,
    referral: dict[str, Any],
    user: str,
    action: str,
    body: dict[str, str],
) -> None:
    assert act(client, auth, user, referral, action, body).status_code == 404
    assert (last_audit(session).actor, last_audit(session).outcome) == (user, "not_found")


@pytest.mark.parametrize("user", ["doctor.laihia", "nurse.laihia"])
@pytest.mark.parametrize("action", ["accept", "reject", "return", "start", "complete"])
def test_the_referrer_side_cannot_triage(
    client: TestClient, auth: Auth, referral: dict[str, Any], user: str, action: str
) -> None:
    body = ACTION_BODIES.get(action, {})
    assert act(client, auth, user, referral, action, body).status_code == 403


def test_counsellors_cannot_send_or_delegate_booking(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    body = referral_body(referral["patient_id"])
    assert (
        client.post("/api/v1/referrals", json=body, headers=auth("counsellor1.laihia")).status_code
        == 403
    )
    assert act(client, auth, "counsellor1.laihia", referral, "book-by-service").status_code == 403


def test_the_referrers_unit_sees_it_and_other_units_do_not(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    for colleague in ("nurse.laihia", "physiotherapist.laihia"):
        assert (
            client.get(f"/api/v1/referrals/{referral['id']}", headers=auth(colleague)).status_code
            == 200
        )
    listed = client.get("/api/v1/referrals", headers=auth(OTHER_UNIT_CLINICIAN)).json()["items"]
    assert referral["id"] not in [item["id"] for item in listed]
    listed = client.get("/api/v1/referrals", headers=auth(OTHER_COUNSELLOR)).json()["items"]
    assert referral["id"] not in [item["id"] for item in listed]


def test_reads_and_writes_are_audited(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    client.get(f"/api/v1/referrals/{referral['id']}", headers=auth("counsellor2.laihia"))
    event = last_audit(session)
    assert (event.action, event.actor, event.resource_type) == (
        "read",
        "counsellor2.laihia",
        "Referral",
    )
    assert str(event.patient_id) == referral["patient_id"]
    client.get("/api/v1/referrals", headers=auth("counsellor2.laihia"))
    assert last_audit(session).action == "query"


@pytest.mark.parametrize(
    "user",
    ["doctor.laihia", "counsellor1.kaskinen", "statistician.region", "auditor.region",
     "admin.kaskinen", "patient-system"],
)  # fmt: skip
def test_every_role_reads_the_service_directory(client: TestClient, auth: Auth, user: str) -> None:
    response = client.get("/api/v1/services", headers=auth(user))
    assert response.status_code == 200
    by_code = {service["code"]: service for service in response.json()["items"]}
    assert by_code["ln-kaskinen"]["languages"] == ["fi", "sv", "en"]
    assert by_code["ln-kaskinen"]["catchment"] == ["231"]
    assert by_code["ln-kaskinen"]["municipality_code"] == "231"


def test_the_directory_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/services").status_code == 401
