"""Consents beyond care and counselling, and the research extract that needs them: recorded and
withdrawn by those caring for the client, required for every client in an extract, and an
extract refused when nobody has given one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.kit.clock import today_in_helsinki
from app.patients.ages import age_band
from tests.fixtures.factories import act, backdate, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]
COUNSELLOR, STEWARD = "counsellor1.laihia", "steward.region"
TODAY = today_in_helsinki()
STUDY = "PSHVA/123/2026"
PERIOD = {"visited_from": str(TODAY - timedelta(days=365)), "visited_to": str(TODAY)}


def consent(**overrides: Any) -> dict[str, Any]:
    return {"scope": "research", "study": STUDY, "decision": "given",
            "decided_on": str(TODAY - timedelta(days=10)), "method": "written",
            **overrides}  # fmt: skip


def counselled(client: TestClient, auth: Auth, session: Session, index: int) -> str:
    """A Laihia patient with one visit recorded 20 days ago; their id."""
    sent = send_referral(client, auth, demo_patient(session, "399", index).id)
    referral = act(client, auth, COUNSELLOR, sent, "accept").json()
    backdate(session, referral["id"], 30)
    visit = {"visited_on": str(TODAY - timedelta(days=20)), "contact_type": "in_person",
             "duration_minutes": 45, "mvpa_days_per_week": 2, "mvpa_minutes_per_day": 30,
             "strength_days_per_week": 1, "sitting_hours_per_day": 9,
             "stage_of_change": "preparation", "note": "Ei tutkimukseen."}  # fmt: skip
    recorded = client.post(
        f"/api/v1/referrals/{referral['id']}/visits", json=visit, headers=auth(COUNSELLOR)
    )
    assert recorded.status_code == 201, recorded.text
    patient_id: str = referral["patient_id"]
    return patient_id


def record(client: TestClient, auth: Auth, patient_id: str, user: str = COUNSELLOR,
           **overrides: Any) -> Any:  # fmt: skip
    return client.post(
        f"/api/v1/patients/{patient_id}/consents", json=consent(**overrides), headers=auth(user)
    )


def extract(client: TestClient, auth: Auth, study: str = STUDY) -> Any:
    return client.post(
        "/api/v1/research/extracts", json={"study": study, **PERIOD}, headers=auth(STEWARD)
    )


def test_no_consent_refuses_the_extract_and_logs_the_refusal(
    client: TestClient, auth: Auth, session: Session
) -> None:
    counselled(client, auth, session, 0)
    response = extract(client, auth, "no-such-consent")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "research_consent_missing"
    assert "suostumus" in extract(client, auth, "x").json()["detail"]
    swedish = client.post("/api/v1/research/extracts", json={"study": "x", **PERIOD},
                          headers={**auth(STEWARD), "Accept-Language": "sv"})  # fmt: skip
    assert "samtycke" in swedish.json()["detail"]
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (last.actor, last.outcome, last.purpose, last.resource_id) == (
        STEWARD,
        "refused",
        "research",
        "x",
    )


def test_only_consenting_clients_are_extracted_under_pseudonyms(
    client: TestClient, auth: Auth, session: Session
) -> None:
    consenting, other = counselled(client, auth, session, 0), counselled(client, auth, session, 1)
    assert record(client, auth, consenting).status_code == 201
    record(client, auth, other, study="another-study")
    response = extract(client, auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["patients"] == 1
    [row] = body["rows"]
    patient = demo_patient(session, "399", 0)
    assert row["age_band"] == age_band(patient.birth_date, TODAY - timedelta(days=20))
    assert row["minutes_per_week"] == 60
    assert row["visit_month"] == f"{TODAY - timedelta(days=20):%Y-%m}"
    text = response.text
    for secret in (consenting, patient.given_name, patient.family_name, "Ei tutkimukseen"):
        assert secret not in text
    # The same client has another pseudonym in another study.
    assert extract(client, auth, "another-study").json()["rows"][0]["pseudonym"] != row["pseudonym"]
    # The extract is a disclosure of the consenting client's data, for research.
    disclosed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "disclose", AuditEvent.resource_id == STUDY)
    ).all()
    assert [(str(e.patient_id), e.purpose) for e in disclosed] == [(consenting, "research")]
    report = client.get(
        f"/api/v1/audit/patients/{consenting}/access-report", headers=auth("auditor.region")
    ).json()
    assert [(d["actor"], d["purpose"], d["resource_id"], d["recipient"])
            for d in report["disclosures"]] == [
        (STEWARD, "research", STUDY, f"{STEWARD}, study {STUDY}")
    ]  # fmt: skip


def test_a_withdrawal_takes_effect_from_its_day(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient_id = counselled(client, auth, session, 0)
    record(client, auth, patient_id, decided_on=str(TODAY - timedelta(days=30)))
    record(client, auth, patient_id, "nurse.laihia", decision="withdrawn",
           decided_on=str(TODAY - timedelta(days=5)))  # fmt: skip
    assert extract(client, auth).json()["code"] == "research_consent_missing"
    listed = client.get(f"/api/v1/patients/{patient_id}/consents", headers=auth("doctor.laihia"))
    assert listed.json()["in_force"] == []
    assert [(d["decision"], d["recorded_by"]) for d in listed.json()["decisions"]] == [
        ("withdrawn", "nurse.laihia"),
        ("given", COUNSELLOR),
    ]
    # Given again: in force again, and the history keeps all three.
    record(client, auth, patient_id, decided_on=str(TODAY))
    listed = client.get(f"/api/v1/patients/{patient_id}/consents", headers=auth("doctor.laihia"))
    assert listed.json()["in_force"] == [{"scope": "research", "study": STUDY, "since": str(TODAY)}]
    assert len(listed.json()["decisions"]) == 3
    assert extract(client, auth).json()["patients"] == 1


@pytest.mark.parametrize("bad", [
    {"scope": "marketing"}, {"decision": "maybe"}, {"study": ""}, {"study": "a b"},
    {"study": "x" * 65}, {"decided_on": str(TODAY + timedelta(days=1))}, {"method": "telepathy"},
    {"extra": 1},
])  # fmt: skip
def test_a_bad_consent_is_refused(
    client: TestClient, auth: Auth, session: Session, bad: dict[str, Any]
) -> None:
    patient_id = counselled(client, auth, session, 0)
    response = record(client, auth, patient_id, **bad)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_recording_is_idempotent_and_audited(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient_id = counselled(client, auth, session, 0)
    url = f"/api/v1/patients/{patient_id}/consents"
    headers = {**auth(COUNSELLOR), "Idempotency-Key": "consent-1"}
    first = client.post(url, json=consent(), headers=headers)
    again = client.post(url, json=consent(), headers=headers)
    assert (first.status_code, again.json()) == (201, first.json())
    listed = client.get(url, headers=auth(COUNSELLOR)).json()
    assert len(listed["decisions"]) == 1
    entries = session.scalars(
        select(AuditEvent).where(AuditEvent.resource_type == "Consent").order_by(AuditEvent.seq)
    ).all()
    assert [(e.action, str(e.patient_id)) for e in entries] == [
        ("create", patient_id),
        ("read", patient_id),
        ("read", patient_id),
    ]


def test_the_extract_period_must_be_a_period(client: TestClient, auth: Auth) -> None:
    body = {"study": STUDY, "visited_from": str(TODAY), "visited_to": str(TODAY - timedelta(1))}
    response = client.post("/api/v1/research/extracts", json=body, headers=auth(STEWARD))
    assert response.status_code == 422
