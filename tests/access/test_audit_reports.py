"""The audit log for auditors: search, the patient's access report (who saw or changed the data
and to whom it was disclosed), the tamper check."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import merkle, sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from tests.access.test_audit import drop_append_only_guard
from tests.fixtures.factories import send_referral

Auth = Callable[[str], dict[str, str]]
PATIENT = {
    "hetu": "300690-998L",
    "given_name": "Raportti",
    "family_name": "Testinen",
    "home_municipality_code": "399",
    "phone": "+358409998877",
}


def test_the_access_report_lists_exactly_the_accesses_made(client: TestClient, auth: Auth) -> None:
    created = client.post("/api/v1/patients", json=PATIENT, headers=auth("nurse.laihia")).json()
    client.post(
        "/api/v1/patients/lookup", json={"hetu": PATIENT["hetu"]}, headers=auth("doctor.laihia")
    )
    referral = send_referral(client, auth, created["id"], sender="doctor.laihia")
    client.get(f"/api/v1/referrals/{referral['id']}", headers=auth("counsellor1.laihia"))
    client.get(
        f"/api/v1/referrals/{referral['id']}", headers=auth("counsellor1.kaskinen")
    )  # refused
    report = client.get(
        f"/api/v1/audit/patients/{created['id']}/access-report", headers=auth("auditor.region")
    )
    assert report.status_code == 200, report.text
    seen = [
        (a["actor"], a["action"], a["resource_type"], a["outcome"])
        for a in report.json()["accesses"]
    ]
    assert seen == [
        ("nurse.laihia", "create", "Patient", "success"),
        ("doctor.laihia", "query", "Patient", "success"),
        ("doctor.laihia", "create", "Referral", "success"),
        ("counsellor1.laihia", "read", "Referral", "success"),
        ("counsellor1.kaskinen", "read", "Referral", "not_found"),
    ]
    assert report.json()["disclosures"] == []
    assert report.json()["accesses"][0]["actor_organisation"] == "ts-laihia"
    assert [a["purpose"] for a in report.json()["accesses"]] == ["care"] * 3 + ["counselling"] * 2


def test_a_notice_sent_is_a_disclosure_in_the_report(
    app: FastAPI, client: TestClient, auth: Auth, session: Session
) -> None:
    created = client.post("/api/v1/patients", json=PATIENT, headers=auth("nurse.laihia")).json()
    # What the worker records when it hands a notice to the SMS gateway.
    audit.record(
        session,
        actor=None,
        action=AuditAction.disclose,
        resource_type="Notice",
        resource_id="1",
        patient_id=uuid.UUID(created["id"]),
    )
    session.flush()
    report = client.get(
        f"/api/v1/audit/patients/{created['id']}/access-report", headers=auth("auditor.region")
    ).json()
    disclosures = [(d["resource_type"], d["action"]) for d in report["disclosures"]]
    assert disclosures == [("Notice", "disclose")]
    assert all(a["action"] != "disclose" for a in report["accesses"])


def test_search_filters_and_is_itself_logged(client: TestClient, auth: Auth) -> None:
    client.post(
        "/api/v1/patients/lookup", json={"hetu": "131052-308T"}, headers=auth("doctor.kaskinen")
    )
    found = client.get(
        "/api/v1/audit/events",
        params={"actor": "doctor.kaskinen", "outcome": "not_found"},
        headers=auth("auditor.region"),
    ).json()["items"]
    assert [(e["actor"], e["resource_type"]) for e in found] == [("doctor.kaskinen", "Patient")]
    latest = client.get("/api/v1/audit/events", params={"limit": 1}, headers=auth("auditor.region"))
    assert latest.json()["items"][0]["resource_type"] == "AuditLog"


def test_search_pages_through_the_log_with_a_cursor(client: TestClient, auth: Auth) -> None:
    headers = auth("auditor.region")
    first = client.get("/api/v1/audit/events", params={"limit": 3}, headers=headers).json()
    assert len(first["items"]) == 3
    second = client.get(
        "/api/v1/audit/events",
        params={"limit": 3, "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == 6
    forged = client.get("/api/v1/audit/events", params={"cursor": "eyJzIjogMH0="}, headers=headers)
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_cursor")


def test_verify_over_http(
    client: TestClient, auth: Auth, session: Session, connection: Connection
) -> None:
    sealing.seal(session, all_visible=True)
    intact = client.post("/api/v1/audit/verify", headers=auth("auditor.region")).json()
    assert intact["ok"] is True
    assert intact["checked"] >= 50
    drop_append_only_guard(connection)
    connection.execute(text("UPDATE audit_events SET actor = 'someone' WHERE seq = 3"))
    broken = client.post("/api/v1/audit/verify", headers=auth("auditor.region")).json()
    assert (broken["ok"], broken["broken_at"]) == (False, 3)


@pytest.mark.parametrize("user", ["doctor.laihia", "counsellor1.laihia", "admin.region",
                                  "statistician.region", "patient-system"])  # fmt: skip
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/audit/events"), ("POST", "/api/v1/audit/verify"),
     ("GET", "/api/v1/audit/patients/00000000-0000-4000-8000-000000000000/access-report")],
)  # fmt: skip
def test_only_auditors_read_the_log(
    client: TestClient, auth: Auth, user: str, method: str, path: str
) -> None:
    assert client.request(method, path, headers=auth(user)).status_code == 403


def test_the_export_is_valid_fhir_auditevents_in_the_balp_shape(
    client: TestClient, auth: Auth
) -> None:
    from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

    created = client.post("/api/v1/patients", json=PATIENT, headers=auth("nurse.laihia")).json()
    client.post(
        "/api/v1/patients/lookup", json={"hetu": "131052-308T"}, headers=auth("doctor.laihia")
    )
    response = client.get("/api/v1/audit/export", headers=auth("auditor.region"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) >= 52
    for line in lines:
        FhirAuditEvent.model_validate(line)  # raises on anything R4 does not allow
    created_line = next(
        line for line in lines
        if any(e["what"].get("reference") == f"Patient/{created['id']}" for e in line["entity"])
    )  # fmt: skip
    assert (created_line["action"], created_line["subtype"][0]["code"]) == ("C", "create")
    assert created_line["agent"][0]["who"]["identifier"]["value"] == "nurse.laihia"
    assert created_line["agent"][0]["purposeOfUse"][0]["coding"][0]["code"] == "TREAT"
    assert created_line["agent"][1]["type"]["coding"][0]["code"] == "110152"
    refused = lines[-1]
    assert (refused["outcome"], refused["agent"][0]["who"]["identifier"]["value"]) == (
        "4",
        "doctor.laihia",
    )
    assert "131052" not in response.text


def test_each_entry_in_the_report_proves_it_is_in_the_signed_log(
    client: TestClient, auth: Auth, session: Session
) -> None:
    """The README's check, as anyone would run it on a report they were handed."""
    created = client.post("/api/v1/patients", json=PATIENT, headers=auth("nurse.laihia")).json()
    url = f"/api/v1/audit/patients/{created['id']}/access-report"
    waiting = client.get(url, headers=auth("auditor.region")).json()
    assert [entry["proof"] for entry in waiting["accesses"]] == [None]  # not sealed yet
    sealing.seal(session, all_visible=True)
    report = client.get(url, headers=auth("auditor.region")).json()
    head = report["tree_head"]
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(report["public_key"]))
    message = f"askel audit tree head v1\n{head['size']}\n{head['root']}\n{head['signed_at']}\n"
    key.verify(bytes.fromhex(head["signature"]), message.encode())
    # The registration and the first report's own read, both sealed since.
    assert [entry["resource_type"] for entry in report["accesses"]] == ["Patient", "AccessReport"]
    for entry in report["accesses"]:
        proof = entry["proof"]
        assert json.loads(proof["leaf"])["seq"] == entry["seq"]
        assert merkle.verify_inclusion(
            proof["position"], head["size"],
            hashlib.sha256(b"\x00" + proof["leaf"].encode()).digest(),
            [bytes.fromhex(h) for h in proof["path"]], bytes.fromhex(head["root"]),
        )  # fmt: skip
    # The README's few lines say the same.
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    [snippet] = [b for b in readme.split("```python\n")[1:] if "def proves(" in b]
    namespace: dict[str, Any] = {}
    exec(snippet.split("```")[0], namespace)
    assert all(namespace["proves"](e, head, report["public_key"]) for e in report["accesses"])
    edited = proof["leaf"].replace(entry["resource_type"], "Nothing")
    assert not namespace["proves"]({"proof": {**proof, "leaf": edited}}, head, report["public_key"])
    assert not merkle.verify_inclusion(
        proof["position"], head["size"], hashlib.sha256(b"\x00" + edited.encode()).digest(),
        [bytes.fromhex(h) for h in proof["path"]], bytes.fromhex(head["root"]),
    )  # fmt: skip
