"""A patient with a security prohibition (turvakielto): their home municipality and phone reach
only the patient system and Askel's own routing and notices, each such use audited; no answer to
anyone else, notice text, calendar, research extract or statistic carries them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.models import User
from app.jobs.worker import run_once
from app.notices import service as notices
from app.notices.channel import FileChannel
from app.patients.models import Patient
from app.patients.nondisclosure import PROTECTED
from app.patients.protection import unseal
from app.statistics.models import ReferralFact, VisitFact
from tests.consents.test_consents import counselled, extract, record
from tests.fixtures.factories import Auth, demo_patient, referral_body, send_referral
from tests.fixtures.facts import facts_follow
from tests.scheduling.test_booking import RULES, book, search, user_id
from tests.scheduling.test_calendar_address import token_path

PHONE = "+358409876543"
HOME, HOME_NAMES = "152", ("Isokyrö", "Storkyro")
SYSTEM, CLINICIAN, COUNSELLOR = "patient-system", "doctor.isokyro", "counsellor1.laihia"
REFERRER = "doctor.laihia"


def protect(patient: Patient, session: Session, protected: bool = True) -> Patient:
    patient.security_prohibition, patient.phone = protected, PHONE
    session.flush()
    return patient


@pytest.fixture
def protected(session: Session) -> Patient:
    """An Isokyrö resident with a security prohibition and a distinctive phone."""
    return protect(demo_patient(session, HOME, 0), session)


def hidden_in(text: str) -> None:
    """Neither the phone nor the home municipality (as code or name) is in the text."""
    assert PHONE not in text
    assert f'"{HOME}"' not in text
    for name in HOME_NAMES:
        assert name not in text


def protected_accesses(session: Session, patient_id: uuid.UUID) -> list[tuple[Any, ...]]:
    statement = (
        select(AuditEvent.actor, AuditEvent.action, AuditEvent.recipient)
        .where(AuditEvent.resource_type == PROTECTED, AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.seq)
    )
    return [tuple(row) for row in session.execute(statement).all()]


def lookup(client: TestClient, auth: Auth, patient: Patient, user: str) -> Any:
    hetu = unseal(patient.hetu_ciphertext, patient.id)
    return client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(user))


def test_a_clinician_reads_a_protected_patient_without_municipality_and_phone(
    client: TestClient, auth: Auth, session: Session, protected: Patient
) -> None:
    answer = lookup(client, auth, protected, CLINICIAN)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["home_municipality_code"], body["phone"]) == (None, None)
    assert (body["security_prohibition"], body["given_name"]) == (True, protected.given_name)
    hidden_in(answer.text)
    assert protected_accesses(session, protected.id) == []


def test_the_patient_system_reads_them_and_the_read_is_audited_as_protected(
    client: TestClient, auth: Auth, session: Session, protected: Patient
) -> None:
    body = lookup(client, auth, protected, SYSTEM).json()
    assert (body["home_municipality_code"], body["phone"]) == (HOME, PHONE)
    assert protected_accesses(session, protected.id) == [(SYSTEM, "read", None)]


def test_an_unprotected_patient_is_shown_whole_and_unaudited_as_protected(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient = protect(demo_patient(session, HOME, 1), session, protected=False)
    body = lookup(client, auth, patient, CLINICIAN).json()
    assert (body["home_municipality_code"], body["phone"]) == (HOME, PHONE)
    assert protected_accesses(session, patient.id) == []


def test_a_registration_and_its_retry_answer_a_clinician_masked(
    client: TestClient, auth: Auth
) -> None:
    body = {"hetu": "150377-9974", "given_name": "Ilmari", "family_name": "Testinen",
            "home_municipality_code": HOME, "phone": PHONE,
            "security_prohibition": True}  # fmt: skip
    headers = {**auth(CLINICIAN), "Idempotency-Key": "register-protected"}
    first = client.post("/api/v1/patients", json=body, headers=headers)
    again = client.post("/api/v1/patients", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert first.json() == again.json()
    hidden_in(first.text)


def test_routing_still_finds_the_home_municipalitys_service_and_is_audited(
    client: TestClient, auth: Auth, session: Session, protected: Patient
) -> None:
    neighbour = demo_patient(session, HOME, 1)
    # A Laihia doctor: an Isokyrö one's name would name the municipality itself.
    theirs = send_referral(client, auth, neighbour.id, sender=REFERRER)
    sent = send_referral(client, auth, protected.id, sender=REFERRER)
    assert sent["service_id"] == theirs["service_id"]
    assert protected_accesses(session, protected.id) == [(REFERRER, "query", None)]
    assert protected_accesses(session, neighbour.id) == []
    read = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth(REFERRER))
    listed = client.get("/api/v1/referrals", headers=auth("counsellor1.isokyro"))
    assert (read.status_code, listed.status_code) == (200, 200)
    assert sent["id"] in listed.text
    for text in (json.dumps(sent), read.text, listed.text):
        hidden_in(text)


@pytest.mark.parametrize("prohibited", [True, False])
def test_a_refused_routing_names_the_municipality_only_when_unprotected(
    client: TestClient, auth: Auth, session: Session, protected: Patient, prohibited: bool
) -> None:
    protected.home_municipality_code, protected.security_prohibition = "999", prohibited
    session.flush()
    for language in ("fi", "sv", "en"):
        refused = client.post(
            "/api/v1/referrals",
            json=referral_body(protected.id),
            headers={**auth(CLINICIAN), "Accept-Language": language},
        )
        assert refused.status_code == 422
        assert refused.json()["code"] == "no_service_for_municipality"
        assert ("999" in refused.json()["detail"]) is not prohibited


@pytest.fixture
def booked(client: TestClient, auth: Auth, session: Session, protected: Patient) -> str:
    """The protected patient booked at Laihia's service (named explicitly): the notices and
    the counsellor's calendar name Laihia's place, never the patient's home. The appointment."""
    counsellor = user_id(session, COUNSELLOR)
    client.put(f"/api/v1/counsellors/{counsellor}/availability", json={"rules": RULES},
               headers=auth(COUNSELLOR))  # fmt: skip
    laihia = session.scalars(select(User).where(User.username == COUNSELLOR)).one().service_id
    assert laihia is not None
    referral = send_referral(client, auth, protected.id, service_id=str(laihia))
    slot = search(client, auth, laihia)[2]
    answer = book(client, auth, slot, referral)
    assert answer.status_code == 201, answer.text
    hidden_in(answer.text)
    appointment: str = answer.json()["id"]
    return appointment


def test_the_notice_sender_uses_the_number_audited_and_the_text_holds_none_of_it(
    app: FastAPI, session: Session, protected: Patient, booked: str, tmp_path: Path
) -> None:
    session.commit()
    out = tmp_path / "notices.jsonl"
    channel = FileChannel(out)
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, channel)}
    assert run_once(app.state.db, handlers) == 1
    [sent] = [json.loads(line) for line in out.read_text().splitlines()]
    assert sent["to"] == PHONE  # whom it must reach
    hidden_in(sent["text"])
    session.expire_all()
    assert protected_accesses(session, protected.id)[-1] == (None, "disclose", channel.recipient)


def test_the_counsellors_calendar_holds_none_of_it(
    client: TestClient, auth: Auth, session: Session, booked: str
) -> None:
    counsellor = user_id(session, COUNSELLOR)
    url = client.post(token_path(counsellor), headers=auth(COUNSELLOR)).json()["url"]
    feed = client.get(url)
    assert feed.status_code == 200
    assert "VEVENT" in feed.text
    hidden_in(feed.text)


def test_the_statistics_place_a_protected_patient_in_no_municipality(
    client: TestClient, auth: Auth, session: Session, protected: Patient
) -> None:
    neighbour = demo_patient(session, HOME, 1)
    for patient in (protected, neighbour):
        send_referral(client, auth, patient.id, sender=CLINICIAN)
    session.commit()
    facts_follow(session)

    def municipality_of(patient: Patient) -> str | None:
        fact = session.scalars(select(ReferralFact).where(ReferralFact.patient_id == patient.id))
        return fact.one().municipality

    assert (municipality_of(protected), municipality_of(neighbour)) == (None, HOME)
    # A prohibition set later takes the patient out of their municipality's facts too.
    protect(neighbour, session)
    session.commit()
    facts_follow(session)
    session.expire_all()
    assert municipality_of(neighbour) is None
    visit_places = session.scalars(
        select(VisitFact.municipality).where(VisitFact.patient_id == neighbour.id)
    ).all()
    assert HOME not in visit_places


def test_a_table_by_municipality_lists_the_patients_in_none_always(
    client: TestClient, auth: Auth
) -> None:
    period = {"from": "2025-01-01", "to": "2025-12-31", "group_by": "municipality"}
    answer = client.get("/api/v1/stats/visits", params=period, headers=auth("statistician.region"))
    assert answer.status_code == 200, answer.text
    listed = [cell["groups"]["municipality"] for cell in answer.json()["cells"]]
    assert None in listed
    assert "other" in listed
    csv = client.get("/api/v1/stats/visits", params={**period, "format": "csv"},
                     headers=auth("statistician.region"))  # fmt: skip
    assert csv.status_code == 200, csv.text


def test_a_research_extract_leaves_a_protected_clients_municipality_out(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient_id = counselled(client, auth, session, 0)
    other_id = counselled(client, auth, session, 1)
    for consenting in (patient_id, other_id):
        assert record(client, auth, consenting).status_code == 201
    patient = session.get(Patient, uuid.UUID(patient_id))
    assert patient is not None
    protect(patient, session)
    answer = extract(client, auth)
    assert answer.status_code == 200, answer.text
    places = sorted(str(row["municipality_code"]) for row in answer.json()["rows"])
    assert places == ["399", "None"]
    assert PHONE not in answer.text
