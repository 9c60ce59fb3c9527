"""Registering and looking up patients through HTTP, with real development-issuer tokens."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.patients.models import Patient
from app.patients.protection import unseal

Auth = Callable[[str], dict[str, str]]

NEW_PATIENT = {
    "hetu": "150377-9974",
    "given_name": "Ilmari",
    "family_name": "Testinen",
    "home_municipality_code": "399",
    "language": "fi",
    "phone": "+358401234567",
}
DEMO_HETU = "131052-308T"  # not a demo patient: a real-format code used only in tests


def last_audit(session: Session) -> AuditEvent:
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    return event


def test_a_clinician_registers_a_patient(client: TestClient, auth: Auth, session: Session) -> None:
    response = client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth("nurse.laihia"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["birth_date"] == "1977-03-15"
    assert body["sex"] == "unknown"
    assert "hetu" not in body
    assert "150377" not in response.text
    stored = session.get(Patient, uuid.UUID(body["id"]))
    assert stored is not None
    assert "150377-9974" not in stored.hetu_hash
    assert b"150377" not in stored.hetu_ciphertext
    assert unseal(stored.hetu_ciphertext, stored.id) == "150377-9974"
    event = last_audit(session)
    assert (event.action, event.outcome, event.actor) == ("create", "success", "nurse.laihia")
    assert str(event.patient_id) == body["id"]
    assert event.request_id == response.headers["x-request-id"]


def test_registering_twice_answers_409_with_the_existing_id(
    client: TestClient, auth: Auth, session: Session
) -> None:
    first = client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth("doctor.laihia"))
    again = {**NEW_PATIENT, "hetu": " 150377-9974 "}
    second = client.post("/api/v1/patients", json=again, headers=auth("doctor.laihia"))
    assert second.status_code == 409
    assert second.json()["code"] == "patient_exists"
    assert second.json()["patient_id"] == first.json()["id"]
    assert session.scalar(select(Patient).where(Patient.given_name == "Ilmari")) is not None
    event = last_audit(session)
    assert (event.outcome, str(event.patient_id)) == ("conflict", first.json()["id"])


def test_lookup_finds_the_patient_and_is_audited(
    client: TestClient, auth: Auth, session: Session
) -> None:
    created = client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth("doctor.laihia"))
    found = client.post(
        "/api/v1/patients/lookup",
        json={"hetu": "150377-9974"},
        headers=auth("physiotherapist.isokyro"),
    )
    assert found.status_code == 200
    assert found.json()["id"] == created.json()["id"]
    event = last_audit(session)
    assert (event.action, event.actor, event.outcome) == (
        "query",
        "physiotherapist.isokyro",
        "success",
    )


def test_lookup_of_an_unknown_code_is_404_and_audited(
    client: TestClient, auth: Auth, session: Session
) -> None:
    response = client.post(
        "/api/v1/patients/lookup", json={"hetu": DEMO_HETU}, headers=auth("doctor.kaskinen")
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    event = last_audit(session)
    assert (event.actor, event.outcome, event.patient_id) == ("doctor.kaskinen", "not_found", None)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fi", "Henkilötunnus ei kelpaa: tarkistusmerkki ei täsmää."),
        ("sv", "Personbeteckningen är ogiltig: kontrolltecknet stämmer inte."),
        ("en", "The personal identity code is not valid: the check character does not match."),
    ],
)
def test_an_invalid_code_is_422_in_three_languages(
    client: TestClient, auth: Auth, language: str, expected: str
) -> None:
    headers = {**auth("doctor.laihia"), "Accept-Language": language}
    bad = {**NEW_PATIENT, "hetu": "150377-998M"}
    response = client.post("/api/v1/patients", json=bad, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_hetu"
    assert body["detail"] == expected
    assert "150377" not in response.text


def test_validation_errors_never_echo_the_input(client: TestClient, auth: Auth) -> None:
    bad = {**NEW_PATIENT, "home_municipality_code": "150377-9974", "unexpected": 1}
    response = client.post("/api/v1/patients", json=bad, headers=auth("doctor.laihia"))
    assert response.status_code == 422
    fields = {error["field"]: error["code"] for error in response.json()["errors"]}
    assert fields == {
        "body.home_municipality_code": "string_pattern_mismatch",
        "body.unexpected": "extra_forbidden",
    }
    assert "150377" not in response.text


@pytest.mark.parametrize(
    "username",
    ["counsellor1.laihia", "statistician.region", "auditor.region", "admin.region", "admin.laihia"],
)
@pytest.mark.parametrize("path", ["/api/v1/patients", "/api/v1/patients/lookup"])
def test_other_roles_are_refused_and_the_refusal_is_audited(
    client: TestClient, auth: Auth, session: Session, username: str, path: str
) -> None:
    response = client.post(path, json=NEW_PATIENT, headers=auth(username))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    event = last_audit(session)
    assert (event.actor, event.outcome, event.resource_type) == (username, "refused", path)
    assert session.scalar(select(Patient).where(Patient.given_name == "Ilmari")) is None


def test_the_identity_code_never_reaches_the_logs(
    client: TestClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth("doctor.laihia"))
    client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth("doctor.laihia"))
    client.post(
        "/api/v1/patients/lookup", json={"hetu": "150377-998X"}, headers=auth("doctor.laihia")
    )
    assert caplog.records, "the access log should have written something"
    assert all("150377" not in str(vars(record)) for record in caplog.records)


def test_a_security_prohibition_is_recorded_and_shown(
    client: TestClient, auth: Auth, session: Session
) -> None:
    body = {**NEW_PATIENT, "security_prohibition": True}
    response = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert response.status_code == 201, response.text
    assert response.json()["security_prohibition"] is True
    stored = session.get(Patient, uuid.UUID(response.json()["id"]))
    assert stored is not None
    assert stored.security_prohibition is True
    found = client.post(
        "/api/v1/patients/lookup", json={"hetu": NEW_PATIENT["hetu"]}, headers=auth("nurse.laihia")
    )
    assert found.json()["security_prohibition"] is True


def test_without_a_security_prohibition_a_patient_has_none(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/patients", json=NEW_PATIENT, headers=auth("nurse.laihia"))
    assert response.json()["security_prohibition"] is False


@pytest.mark.parametrize("value", ["true", 1, "kyllä", None])
def test_a_security_prohibition_is_a_boolean(client: TestClient, auth: Auth, value: object) -> None:
    body = {**NEW_PATIENT, "security_prohibition": value}
    response = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.security_prohibition"]


def test_the_openapi_document_says_what_a_security_prohibition_does(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    described = schemas["PatientCreate"]["properties"]["security_prohibition"]
    assert described["type"] == "boolean"
    assert described["default"] is False
    assert "turvakielto" in described["description"]
    assert "only to the patient system" in described["description"]
    assert "security_prohibition" in schemas["PatientRead"]["properties"]


@pytest.mark.parametrize("hetu", ["150377-9974", DEMO_HETU])
def test_a_code_alone_registers_a_patient_of_unknown_sex(
    client: TestClient, auth: Auth, session: Session, hetu: str
) -> None:
    """Whether the individual number is odd or even, the code tells Askel no sex: codes issued
    after the identity-code reform do not."""
    body = {**NEW_PATIENT, "hetu": hetu}
    response = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert response.status_code == 201, response.text
    assert response.json()["sex"] == "unknown"
    stored = session.get(Patient, uuid.UUID(response.json()["id"]))
    assert stored is not None
    assert stored.sex == "unknown"


@pytest.mark.parametrize("sex", ["female", "male", "other", "unknown"])
def test_the_sex_the_clinician_records_is_stored_and_read_back(
    client: TestClient, auth: Auth, session: Session, sex: str
) -> None:
    # An odd individual number: before the reform it would have said male.
    body = {**NEW_PATIENT, "sex": sex}
    response = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert response.status_code == 201, response.text
    stored = session.get(Patient, uuid.UUID(response.json()["id"]))
    assert stored is not None
    assert stored.sex == sex
    found = client.post(
        "/api/v1/patients/lookup", json={"hetu": NEW_PATIENT["hetu"]}, headers=auth("nurse.laihia")
    )
    assert found.json()["sex"] == sex


@pytest.mark.parametrize("value", ["F", "nainen", "", None])
def test_a_sex_outside_fhir_administrative_gender_is_refused(
    client: TestClient, auth: Auth, value: object
) -> None:
    body = {**NEW_PATIENT, "sex": value}
    response = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.sex"]
