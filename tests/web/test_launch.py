"""A clinician opens Askel from a patient's chart (SMART App Launch 2.2, EHR launch) in the
development patient system, in-process: the patient found or registered as the session's current
patient; and every refused launch ending on its page, in the user's language, never a 500."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import ECKey
from pydantic import ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.access.audit.models import AuditEvent
from app.access.authn import client_assertion
from app.config import PatientSystem, Settings
from app.demo.chart import PROHIBITED, charts, condition_resources
from app.fhir_sync.inbound import reasons_from_conditions
from app.main import create_app
from app.patients import protection
from app.patients.hetu import parse_hetu
from app.patients.models import Patient
from app.web import sessions
from app.web.models import PageSession
from tests.fixtures.pages import follow, form_for, page_client

DEV_FHIR = "http://testserver/dev/fhir"
REGISTERED, NEWCOMER = "demo-1", "new-1"


def open_chart(client: TestClient, username: str, chart: str) -> httpx.Response:
    """The development patient system's button: Askel's launch address, as the patient system
    opens it."""
    page = client.get("/dev/patient-system")
    assert page.status_code == 200, page.text
    fields = form_for(page.text, "/dev/patient-system/launch")
    answer = client.post("/dev/patient-system/launch",
                         data={**fields, "username": username, "patient": chart})  # fmt: skip
    assert answer.status_code == 303, answer.text
    return answer


def launched(client: TestClient, username: str, chart: str) -> httpx.Response:
    """The launch up to its last answer, the redirect to the patient's page."""
    answer = open_chart(client, username, chart)
    while answer.status_code == 303 and answer.headers["location"] != "/patient":
        target = urlsplit(answer.headers["location"])
        answer = client.get(target.path + (f"?{target.query}" if target.query else ""))
    return answer


def launch(client: TestClient, username: str, chart: str) -> httpx.Response:
    """The whole launch, redirects followed as a browser does; the answer where it ended."""
    return follow(client, open_chart(client, username, chart))


def kept(client: TestClient, session: Session) -> dict[str, Any] | None:
    """What the server keeps of the browser's session (None: no session)."""
    secret = client.cookies.get(sessions.COOKIE)
    if not secret:
        return None
    row = session.get(PageSession, hashlib.sha256(secret.encode()).hexdigest())
    return None if row is None else row.data


def current_patient(client: TestClient, session: Session) -> Patient:
    """The session's current patient."""
    data = kept(client, session)
    assert data is not None
    patient = session.get(Patient, uuid.UUID(data["patient_id"]))
    assert patient is not None
    return patient


def test_the_launch_asks_for_the_patient_and_the_user_with_pkce(pages: TestClient) -> None:
    opened = open_chart(pages, "doctor.laihia", REGISTERED)
    assert urlsplit(opened.headers["location"]).path == "/launch"
    asked = pages.get(opened.headers["location"])
    assert asked.status_code == 303
    target = urlsplit(asked.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "http://testserver/dev/authorize"
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "askel-launch"
    assert query["aud"] == DEV_FHIR
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert set(query["scope"].split()) == {"launch", "openid", "fhirUser", "patient/Patient.rs",
                                           "patient/Condition.rs"}  # fmt: skip
    assert all(query[name] for name in ("launch", "state", "nonce"))
    assert query["redirect_uri"] == "https://testserver/launch/callback"


def test_a_clinician_lands_on_the_patient_of_the_chart(pages: TestClient, session: Session) -> None:
    person = charts()[REGISTERED]
    before = session.scalar(select(Patient).where(
        Patient.hetu_hash == protection.lookup_hash(parse_hetu(person.hetu))))  # fmt: skip
    assert before is not None, "the chart's patient is one of Askel's demo patients"
    opened = launched(pages, "doctor.laihia", REGISTERED)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/patient"
    assert current_patient(pages, session).id == before.id
    entries = session.scalars(select(AuditEvent).where(AuditEvent.patient_id == before.id)
                              .order_by(AuditEvent.seq.desc())).all()  # fmt: skip
    assert entries[0].actor == "doctor.laihia"
    assert entries[0].action == "query"
    page = pages.get("/patient")
    assert page.status_code == 200
    assert f"{person.family_name}, {person.given_name}" in page.text or (
        f"{person.given_name} {person.family_name}" in page.text
    )


def test_a_patient_askel_has_not_met_is_registered_from_the_chart(
    pages: TestClient, session: Session
) -> None:
    person = charts()[NEWCOMER]
    hashed = protection.lookup_hash(parse_hetu(person.hetu))
    assert session.scalar(select(Patient).where(Patient.hetu_hash == hashed)) is None
    launched(pages, "nurse.laihia", NEWCOMER)
    registered = current_patient(pages, session)
    assert registered.hetu_hash == hashed
    assert (registered.given_name, registered.family_name) == (person.given_name,
                                                               person.family_name)  # fmt: skip
    assert registered.home_municipality_code == person.home_municipality_code
    assert registered.language == person.language
    assert registered.phone == person.phone
    assert registered.created_by == "nurse.laihia"


def test_a_security_prohibition_in_the_chart_is_stored_with_the_patient(
    pages: TestClient, session: Session
) -> None:
    launched(pages, "doctor.laihia", PROHIBITED)
    assert current_patient(pages, session).security_prohibition is True


def test_the_session_speaks_for_the_clinician_only_as_a_clinician(
    pages: TestClient, session: Session
) -> None:
    launched(pages, "doctor.laihia", REGISTERED)
    data = kept(pages, session)
    assert data is not None
    assert data["claims"]["roles"] == ["clinician"]
    assert data["claims"]["fhirUser"] == f"{DEV_FHIR}/Practitioner/doctor.laihia"
    assert "launch" not in data, "the launch's secrets are gone once it is answered"


def test_the_referral_starts_from_the_charts_diagnoses(pages: TestClient) -> None:
    launched(pages, "doctor.laihia", NEWCOMER)
    form = form_for(pages.get("/patient/referral").text, "/patient/referral")
    systems = {"urn:oid:1.2.246.537.6.1": "icd10", "urn:oid:1.2.246.537.6.31": "icpc2"}
    diagnoses = [(systems[coding["system"]], coding["code"])
                 for condition in condition_resources(NEWCOMER)
                 for coding in condition["code"]["coding"]]  # fmt: skip
    rows = [(form[f"reason_codes.{row}.system"], form[f"reason_codes.{row}.code"])
            for row in range(len(diagnoses))]  # fmt: skip
    assert rows == diagnoses


def test_reasons_are_the_charts_active_icd10_and_icpc2_diagnoses_each_once() -> None:
    def condition(system: str, code: str, status: str | None = "active") -> dict[str, Any]:
        coded = {"coding": [{"system": system, "code": code}]}
        found: dict[str, Any] = {"resourceType": "Condition", "code": coded}
        if status:
            found["clinicalStatus"] = {"coding": [{"code": status}]}
        return {"resource": found}

    bundle = {"entry": [
        condition("urn:oid:1.2.246.537.6.1", "E11.9"),
        condition("http://hl7.org/fhir/sid/icd-10", "E11.9"),
        condition("urn:oid:1.2.246.537.6.31", "T90", status=None),
        condition("http://hl7.org/fhir/sid/icd-10", "I10", status="resolved"),
        condition("http://snomed.info/sct", "44054006"),
        {"resource": {"resourceType": "Observation"}},
    ]}  # fmt: skip
    assert reasons_from_conditions(bundle) == [
        {"system": "icd10", "code": "E11.9"}, {"system": "icpc2", "code": "T90"}]  # fmt: skip
    assert reasons_from_conditions({}) == []


# Refused launches -----------------------------------------------------------------------------


def refusal(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert "text/html" in answer.headers["content-type"]
    assert f'data-code="{code}"' in answer.text, answer.text


def last_refusal(session: Session) -> AuditEvent:
    found = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")
                            .order_by(AuditEvent.seq.desc())).first()  # fmt: skip
    assert found is not None
    return found


def test_a_patient_system_askel_is_not_configured_for_is_refused(
    pages: TestClient, session: Session
) -> None:
    answer = pages.get("/launch", params={"iss": "https://elsewhere.example/fhir", "launch": "x"},
                       headers={"Accept-Language": "sv"})  # fmt: skip
    refusal(answer, 400, "launch_issuer_unknown")
    assert "Askel kan inte öppnas från det här patientdatasystemet" in answer.text
    audited = last_refusal(session)
    assert (audited.actor, audited.actor_issuer) == ("anonymous", "https://elsewhere.example/fhir")


def test_a_launch_without_its_handle_is_refused(pages: TestClient) -> None:
    refusal(pages.get("/launch", params={"iss": DEV_FHIR}), 400, "launch_context_missing")


@pytest.mark.parametrize("state", ["", "forged"])
def test_an_answer_this_browser_did_not_ask_for_is_refused(
    pages: TestClient, session: Session, state: str
) -> None:
    opened = pages.get(open_chart(pages, "doctor.laihia", REGISTERED).headers["location"])
    assert opened.status_code == 303
    answer = pages.get("/launch/callback", params={"code": "anything", "state": state})
    refusal(answer, 400, "launch_state_mismatch")
    audited = last_refusal(session)
    assert (audited.actor, audited.actor_issuer) == ("anonymous", DEV_FHIR)


def test_a_code_bound_to_another_challenge_is_refused(pages: TestClient) -> None:
    """PKCE: the code was granted for a challenge Askel's verifier does not answer."""
    opened = pages.get(open_chart(pages, "doctor.laihia", REGISTERED).headers["location"])
    target = urlsplit(opened.headers["location"])
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    query["code_challenge"] = "A" * 43
    answer = follow(pages, pages.get(f"{target.path}?{urlencode(query)}"))
    refusal(answer, 400, "launch_refused")


def test_an_unknown_or_used_launch_is_refused_by_the_patient_system(pages: TestClient) -> None:
    opened = urlsplit(open_chart(pages, "doctor.laihia", REGISTERED).headers["location"])
    query = {name: values[0] for name, values in parse_qs(opened.query).items()}
    answer = follow(pages, pages.get("/launch", params={**query, "launch": "not-a-launch"}))
    refusal(answer, 400, "launch_refused")


def test_a_user_without_a_clinicians_account_is_refused_and_audited(
    pages: TestClient, session: Session
) -> None:
    answer = launch(pages, "counsellor1.laihia", REGISTERED)
    refusal(answer, 403, "launch_user_unknown")
    refused = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")
                              .order_by(AuditEvent.seq.desc())).first()  # fmt: skip
    assert refused is not None
    assert (refused.actor, refused.resource_type) == ("counsellor1.laihia", "Launch")
    data = kept(pages, session)
    assert data is None or "claims" not in data, "nobody is signed in"


def test_a_chart_the_patient_system_cannot_serve_ends_on_a_page(pages: TestClient) -> None:
    answer = launch(pages, "doctor.laihia", "no-such-chart")
    refusal(answer, 502, "launch_unavailable")


# Configuration and framing ------------------------------------------------------------------------


def test_a_patient_system_needs_a_key_or_a_secret_and_origins_to_frame(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="key file or a secret"):
        PatientSystem(iss="https://ehr.example/fhir", client_id="askel")
    with pytest.raises(ValidationError, match="not an origin"):
        PatientSystem(iss="https://ehr.example/fhir", client_id="askel", client_secret="s",
                      frame_origins=("https://ehr.example/app",))  # fmt: skip
    with pytest.raises(ValidationError, match="http"):
        PatientSystem(iss="ehr.example/fhir", client_id="askel", client_secret="s")


@contextmanager
def configured(
    settings: Settings, connection: Connection, system: PatientSystem
) -> Iterator[TestClient]:
    """The pages of an Askel configured with this one patient system."""
    changed = settings.model_copy(update={"patient_systems": [system]})
    app: FastAPI = create_app(changed, database=db.Database(connection))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield page_client(client)


@pytest.fixture
def framed(settings: Settings, connection: Connection) -> Iterator[TestClient]:
    system = PatientSystem(iss=DEV_FHIR, client_id="askel-launch", client_secret="framed-secret",
                           frame_origins=("https://ehr.example",))  # fmt: skip
    with configured(settings, connection, system) as client:
        yield client


@pytest.fixture
def keyed(settings: Settings, connection: Connection, tmp_path: Path) -> Iterator[TestClient]:
    """Askel as a client that authenticates with a private key (`private_key_jwt`)."""
    key_file = tmp_path / "launch.jwk"
    key_file.write_text(
        json.dumps(ECKey.generate_key("P-384", auto_kid=True).as_dict(private=True))
    )
    system = PatientSystem(iss=DEV_FHIR, client_id="askel-keyed", client_key_file=key_file)
    with configured(settings, connection, system) as client:
        yield client


def test_a_client_with_a_key_authenticates_with_a_signed_assertion(keyed: TestClient) -> None:
    assert launched(keyed, "doctor.laihia", REGISTERED).headers["location"] == "/patient"


def test_an_assertion_signed_with_another_key_is_refused(keyed: TestClient) -> None:
    endpoint = "http://testserver/dev/oauth/token"
    stranger = ECKey.generate_key("P-384")
    form = {
        "grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43,
        "redirect_uri": "https://testserver/launch/callback", "client_id": "askel-keyed",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(stranger, "askel-keyed", endpoint, "ES384", {}),
    }  # fmt: skip
    answer = keyed.post("/dev/oauth/token", data=form)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_client")


def test_only_a_configured_patient_system_may_frame_the_pages(
    framed: TestClient, pages: TestClient
) -> None:
    answer = framed.get("/")
    assert "frame-ancestors https://ehr.example;" in answer.headers["content-security-policy"]
    assert "SameSite=None" in answer.headers["set-cookie"]
    assert "Secure" in answer.headers["set-cookie"]
    alone = pages.get("/")
    assert "frame-ancestors 'none'" in alone.headers["content-security-policy"]
    assert "SameSite=Lax" in alone.headers["set-cookie"]


def test_a_framed_launch_works_with_the_configured_client(
    framed: TestClient, session: Session
) -> None:
    opened = launched(framed, "doctor.laihia", REGISTERED)
    assert opened.headers["location"] == "/patient"
