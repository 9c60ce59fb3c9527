"""Referrals arriving from the region's patient system as FHIR: a ServiceRequest, or a
transaction bundle with its Patient and Task; one referral however often it is posted,
OperationOutcomes for anything invalid, and only for the integration role."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.patients import protection
from app.patients.hetu import make_hetu
from app.referrals.models import Referral
from tests.fixtures.factories import demo_patient

Auth = Callable[[str], dict[str, str]]
SYSTEM = "patient-system"
CONSENT = "urn:askel:fhir:StructureDefinition:consent-to-counselling"


def service_request(hetu: str | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "urn:oid:1.2.246.10.1234567.10.2026", "value": "LH-0001"}],
        "extension": [{"url": CONSENT, "valueBoolean": True}],
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "435551000124105"}]},
        "subject": {"identifier": {"system": "urn:oid:1.2.246.21", "value": hetu}},
        "requester": {"identifier": {"system": "urn:askel:user", "value": "doctor.laihia"}},
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}],
                        "text": "Tyypin 2 diabetes."}],
        "note": [{"id": "goal", "text": "Reipasta liikuntaa 150 min/vko."}],
    }  # fmt: skip
    body.update(changes)
    return body


def known_hetu(session: Session) -> str:
    patient = demo_patient(session, "399")
    return protection.unseal(patient.hetu_ciphertext, patient.id)


def post(client: TestClient, auth: Auth, body: Any, path: str = "ServiceRequest",
         user: str = SYSTEM) -> Any:  # fmt: skip
    headers = {**auth(user), "Content-Type": "application/fhir+json"}
    return client.post(f"/fhir/{path}".rstrip("/"), json=body, headers=headers)


def test_a_service_request_becomes_one_referral_however_often_it_is_posted(
    client: TestClient, auth: Auth, session: Session
) -> None:
    body = service_request(known_hetu(session))
    first = post(client, auth, body)
    assert first.status_code == 201, first.text
    assert first.headers["content-type"].startswith("application/fhir+json")
    again = post(client, auth, body)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    count = session.scalar(select(func.count()).select_from(Referral).where(
        Referral.source_identifier == "urn:oid:1.2.246.10.1234567.10.2026|LH-0001"))  # fmt: skip
    assert count == 1
    # The answer is the referral as Askel holds it, where its FHIR Location says.
    held = first.json()
    version = held["meta"]["versionId"]
    assert first.headers["location"] == (
        f"http://testserver/fhir/ServiceRequest/{held['id']}/_history/{version}"
    )
    assert first.headers["etag"] == f'W/"{version}"'
    assert held["identifier"][0] == body["identifier"][0]
    assert held["status"] == "active"
    read = client.get(f"/fhir/ServiceRequest/{held['id']}", headers=auth(SYSTEM))
    assert read.status_code == 200
    assert read.headers["content-type"].startswith("application/fhir+json")
    assert read.json() == held
    unknown = client.get(f"/fhir/ServiceRequest/{uuid.uuid4()}", headers=auth(SYSTEM))
    assert (unknown.status_code, unknown.json()["resourceType"]) == (404, "OperationOutcome")
    referral = client.get(f"/api/v1/referrals/{held['id']}", headers=auth("doctor.laihia")).json()
    assert (referral["status"], referral["urgency"]) == ("sent", "urgent")
    assert referral["reason_codes"] == [{"system": "icd10", "code": "E11.9"}]
    assert referral["goal"] == "Reipasta liikuntaa 150 min/vko."


def _bundle(hetu: str) -> dict[str, Any]:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.246.21", "value": hetu}],
        "name": [{"family": "Uusinen", "given": ["Ville"]}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "sv"}]}}],
        "address": [{"extension": [{
            "url": "https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/municipality-code",
            "valueCoding": {"system": "urn:oid:1.2.246.537.6.21", "code": "231"}}]}],
    }  # fmt: skip
    subject = {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}
    request = service_request(None, subject=subject,
                              identifier=[{"system": "urn:region", "value": "B-1"}])  # fmt: skip
    task = {"resourceType": "Task", "status": "requested", "intent": "order",
            "focus": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002"}}  # fmt: skip
    entries = [("aaaaaaaa-0000-4000-8000-000000000001", patient, "Patient"),
               ("aaaaaaaa-0000-4000-8000-000000000002", request, "ServiceRequest"),
               ("aaaaaaaa-0000-4000-8000-000000000003", task, "Task")]  # fmt: skip
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{key}", "resource": resource,
         "request": {"method": "POST", "url": kind}}
        for key, resource, kind in entries]}  # fmt: skip


def test_a_transaction_registers_the_patient_and_sends_the_referral_once(
    client: TestClient, auth: Auth, session: Session
) -> None:
    bundle = _bundle(make_hetu(date(1961, 4, 3), 917))
    first = post(client, auth, bundle, path="")
    assert first.status_code == 200, first.text
    statuses = [entry["response"]["status"] for entry in first.json()["entry"]]
    # The Patient was registered now, and the referral made: both created; the Task, the
    # region's own record of the request, is acknowledged.
    assert statuses == ["201 Created", "201 Created", "200 OK"]
    location = first.json()["entry"][1]["response"]["location"]
    again = post(client, auth, bundle, path="")
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 3
    assert again.json()["entry"][1]["response"]["location"] == location
    referral = client.get(
        f"/api/v1/referrals/{location.split('/')[1]}", headers=auth("doctor.laihia")
    )
    assert referral.json()["preferred_language"] == "sv"  # from the Patient, routed to Kaskinen


def test_the_bundles_patient_brings_the_charts_security_prohibition(
    client: TestClient, auth: Auth, session: Session
) -> None:
    hetu = make_hetu(date(1963, 6, 5), 919)
    bundle = _bundle(hetu)
    labels = "https://hl7.fi/fhir/finnish-base-profiles/CodeSystem/fi-base-security-label-cs"
    bundle["entry"][0]["resource"]["meta"] = {
        "security": [{"system": labels, "code": "TURVAKIELTO"}]
    }
    assert post(client, auth, bundle, path="").status_code == 200
    found = client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(SYSTEM))
    assert found.json()["security_prohibition"] is True
    # The order is lifted in the population register; the chart's next bundle says so.
    lifted = _bundle(hetu)
    lifted["entry"][1]["resource"]["identifier"] = [{"system": "urn:region", "value": "B-2"}]
    assert post(client, auth, lifted, path="").status_code == 200
    found = client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(SYSTEM))
    assert found.json()["security_prohibition"] is False
    updates = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.patient_id == uuid.UUID(found.json()["id"]), AuditEvent.action == "update",
        AuditEvent.resource_type == "Patient")  # fmt: skip
    assert session.scalar(updates) == 1


@pytest.mark.parametrize("gender", ["female", "other"])
def test_the_bundles_patient_is_registered_with_the_charts_gender(
    client: TestClient, auth: Auth, session: Session, gender: str
) -> None:
    # An odd individual number: before the reform the code would have said male.
    hetu = make_hetu(date(1965, 8, 7), 921)
    bundle = _bundle(hetu)
    bundle["entry"][0]["resource"]["gender"] = gender
    assert post(client, auth, bundle, path="").status_code == 200
    found = client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(SYSTEM))
    assert found.json()["sex"] == gender


def test_a_failing_transaction_leaves_nothing_behind(
    client: TestClient, auth: Auth, session: Session
) -> None:
    hetu = make_hetu(date(1962, 5, 4), 918)
    bundle = _bundle(hetu)
    bundle["entry"][1]["resource"]["requester"]["identifier"]["value"] = "nobody"
    response = post(client, auth, bundle, path="")
    assert response.status_code == 422, response.text
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "unknown_requester"
    lookup = client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(SYSTEM))
    assert lookup.status_code == 404  # the patient of the failed bundle was not kept


@pytest.mark.parametrize(("change", "code"), [
    ({"resourceType": "Patient"}, "invalid_fhir_resource"),
    ({"status": "not-a-status"}, "invalid_fhir_resource"),
    ({"identifier": []}, "invalid_fhir_resource"),
    ({"extension": []}, "consent_required"),
    ({"requester": {"identifier": {"system": "urn:askel:user", "value": "ghost"}}},
     "unknown_requester"),
    ({"subject": {"identifier": {"system": "urn:oid:1.2.246.21", "value": "010101-999X"}}},
     "unregistered_patient"),
    ({"reasonCode": [{"text": "Ei koodia."}]}, "invalid_fhir_resource"),
])  # fmt: skip
def test_anything_invalid_is_an_operation_outcome(
    client: TestClient, auth: Auth, session: Session, change: dict[str, Any], code: str
) -> None:
    body = copy.deepcopy(service_request(known_hetu(session)))
    body.update(change)
    response = post(client, auth, body)
    assert 400 <= response.status_code < 500, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == code
    assert known_hetu(session) not in response.text


@pytest.mark.parametrize("user", ["doctor.laihia", "counsellor1.laihia", "admin.region",
                                  "auditor.region", "statistician.region",
                                  "steward.region"])  # fmt: skip
def test_only_the_integration_role_may_post(
    client: TestClient, auth: Auth, session: Session, user: str
) -> None:
    response = post(client, auth, service_request(known_hetu(session)), user=user)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


def test_metadata_and_smart_configuration(client: TestClient) -> None:
    capability = client.get("/fhir/metadata").json()
    assert capability["fhirVersion"] == "4.0.1"
    smart = client.get("/fhir/.well-known/smart-configuration").json()
    assert "private_key_jwt" in smart["token_endpoint_auth_methods_supported"]
    assert client.post("/fhir/ServiceRequest", json={}).status_code == 401
