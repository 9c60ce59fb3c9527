"""Someone without a personal identity code on the clinician's pages: found and registered by
the region's temporary identifier with the birth date, and their code recorded when it arrives
(the record takes it, or is joined to the one registered with it meanwhile). The API's services
in the request's transaction: the same audit entries, and no identifier in any address."""

from __future__ import annotations

import uuid
from datetime import date

import httpx2 as httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.patients.hetu import make_hetu
from app.patients.models import Patient
from app.referrals.models import Referral
from tests.fixtures.factories import Auth, send_referral
from tests.fixtures.pages import follow, form_for, sign_in
from tests.fixtures.referring import CLINICIAN, Trail

SYSTEM = "urn:oid:1.2.246.10.1234567.22.2026"
VALUE = "000412"
# A temporary-range individual number: test use only.
CODE = make_hetu(date(1994, 8, 17), 931)


def _find_temporary(
    pages: TestClient, trail: Trail, system: str = SYSTEM, value: str = VALUE
) -> httpx.Response:
    page = trail.get(pages, "/patients/find")
    fields = form_for(page.text, "/patients/find-temporary")
    data = {**fields, "temporary_id.system": system, "temporary_id.value": value}
    return trail.post(pages, "/patients/find-temporary", data)


def _register_newcomer(pages: TestClient, trail: Trail, **overrides: str) -> httpx.Response:
    missed = _find_temporary(pages, trail)
    fields = form_for(missed.text, "/patients/register")
    answers = {
        "birth_date": "1994-08-17",
        "given_name": "Olena",
        "family_name": "Kovalenko",
        "home_municipality_code": "399",
        "sex": "female",
        "language": "en",
        **overrides,
    }
    return trail.post(pages, "/patients/register", {**fields, **answers})


def _newcomer(session: Session) -> Patient:
    return session.scalars(select(Patient).where(Patient.given_name == "Olena")).one()


def _no_identifier_in(trail: Trail) -> None:
    assert not [a for a in trail.addresses if VALUE in a or "1234567.22" in a or CODE in a]


def test_a_newcomer_missed_by_the_temporary_identifier_is_registered_by_it(
    pages: TestClient, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    trail = Trail()
    missed = _find_temporary(pages, trail)
    assert missed.status_code == 200
    text = missed.text
    assert "Askeliin ei ole rekisteröity potilasta tällä väliaikaisella tunnisteella" in text
    fields = form_for(text, "/patients/register")
    assert (fields["temporary_id.system"], fields["temporary_id.value"]) == (SYSTEM, VALUE)
    assert "hetu" not in fields
    assert "birth_date" in fields
    registered = _register_newcomer(pages, Trail())
    assert registered.status_code == 303
    page = trail.follow(pages, registered)
    assert "<h1>Kovalenko, Olena</h1>" in page.text
    assert "Väliaikainen tunniste (ei vielä henkilötunnusta)" in page.text
    assert form_for(page.text, "/patient/identify")
    patient = _newcomer(session)
    assert patient.hetu_hash is None
    assert patient.birth_date == date(1994, 8, 17)
    missed_lookup = session.scalar(
        select(AuditEvent.outcome).where(
            AuditEvent.resource_type == "Patient",
            AuditEvent.action == "query",
            AuditEvent.patient_id.is_(None),
        )
    )
    assert missed_lookup == "not_found"
    _no_identifier_in(trail)


def test_the_temporary_identifier_then_finds_the_patient(
    pages: TestClient, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    follow(pages, _register_newcomer(pages, Trail()))
    trail = Trail()
    found = _find_temporary(pages, trail)
    assert found.status_code == 303
    assert "<h1>Kovalenko, Olena</h1>" in trail.follow(pages, found).text
    patient = _newcomer(session)
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.patient_id == patient.id)
        .order_by(AuditEvent.seq)
    ).all()
    assert actions[-2:] == ["query", "read"]
    _no_identifier_in(trail)


def test_registering_without_a_birth_date_or_with_a_wrong_system_is_said_beside_the_fields(
    pages: TestClient,
) -> None:
    sign_in(pages, CLINICIAN)
    refused = _register_newcomer(pages, Trail(), birth_date="")
    assert refused.status_code == 422
    assert 'id="birth_date-error"' in refused.text
    wrong = _find_temporary(pages, Trail(), system="urn:oid:1.2.246.10.1234567.22")
    assert wrong.status_code == 422
    assert "hds-notification--error" in wrong.text
    assert 'href="#temporary_id-system"' in wrong.text


def test_the_arriving_code_is_recorded_from_the_patients_page(
    pages: TestClient, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    page = follow(pages, _register_newcomer(pages, Trail()))
    trail = Trail()
    fields = form_for(page.text, "/patient/identify")
    done = trail.post(pages, "/patient/identify", {**fields, "hetu": CODE})
    assert done.status_code == 303
    after = trail.follow(pages, done)
    assert "Henkilötunnus on kirjattu." in after.text
    assert "Väliaikainen tunniste" not in after.text
    assert "/patient/identify" not in after.text
    patient = _newcomer(session)
    session.refresh(patient)
    assert patient.hetu_hash is not None
    updates = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.patient_id == patient.id, AuditEvent.action == "update"
        )
    ).all()
    assert updates == ["update"]
    _no_identifier_in(trail)


def test_a_code_registered_meanwhile_joins_the_records_and_the_referrals_move(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    page = follow(pages, _register_newcomer(pages, Trail()))
    newcomer = _newcomer(session)
    referral = send_referral(client, auth, newcomer.id)
    body = {"hetu": CODE, "given_name": "Olena", "family_name": "Kovalenko",
            "home_municipality_code": "399", "language": "en"}  # fmt: skip
    known = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert known.status_code == 201, known.text
    fields = form_for(page.text, "/patient/identify")
    joined = follow(pages, pages.post("/patient/identify", data={**fields, "hetu": CODE}))
    assert "tiedot on yhdistetty" in joined.text
    assert f'href="/referrals/{referral["id"]}"' in joined.text
    moved = session.get(Referral, uuid.UUID(str(referral["id"])))
    assert moved is not None
    session.refresh(moved)
    assert str(moved.patient_id) == known.json()["id"]


def test_an_invalid_code_is_said_beside_the_field_and_nothing_changes(
    pages: TestClient, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    page = follow(pages, _register_newcomer(pages, Trail()))
    fields = form_for(page.text, "/patient/identify")
    refused = pages.post("/patient/identify", data={**fields, "hetu": "170894-9310"})
    assert refused.status_code == 422
    assert 'id="hetu-error"' in refused.text
    patient = _newcomer(session)
    session.refresh(patient)
    assert patient.hetu_hash is None


@pytest.mark.parametrize(
    "username", ["counsellor1.laihia", "auditor.region", "statistician.region"]
)
def test_other_roles_cannot_find_by_temporary_identifier_or_record_a_code(
    pages: TestClient, username: str
) -> None:
    token = form_for(sign_in(pages, username).text, "/signout")
    for path in ("/patients/find-temporary", "/patient/identify"):
        data = {**token, "temporary_id.system": SYSTEM, "temporary_id.value": VALUE, "hetu": CODE}
        assert pages.post(path, data=data).status_code == 403, path


def test_recording_the_code_again_answers_as_the_first_time(
    pages: TestClient, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    page = follow(pages, _register_newcomer(pages, Trail()))
    fields = form_for(page.text, "/patient/identify")
    first = pages.post("/patient/identify", data={**fields, "hetu": CODE})
    again = pages.post("/patient/identify", data={**fields, "hetu": CODE})
    assert (first.status_code, again.status_code) == (303, 303)
    other = make_hetu(date(1994, 8, 17), 932)
    refused = pages.post("/patient/identify", data={**fields, "hetu": other})
    assert refused.status_code == 409
    assert 'id="hetu-error"' in refused.text


def test_a_record_joined_to_another_meanwhile_opens_as_that_other(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    sign_in(pages, CLINICIAN)
    follow(pages, _register_newcomer(pages, Trail()))
    body = {"hetu": CODE, "given_name": "Olena", "family_name": "Kovalenko-Known",
            "home_municipality_code": "399", "language": "en"}  # fmt: skip
    known = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert known.status_code == 201, known.text
    identify = {"temporary_id": {"system": SYSTEM, "value": VALUE}, "hetu": CODE}
    joined = client.post("/api/v1/patients/identify", json=identify, headers=auth(CLINICIAN))
    assert joined.status_code == 200, joined.text
    # This browser's page still had the temporary record: it now opens the one it joined.
    page = pages.get("/patient")
    assert "<h1>Kovalenko-Known, Olena</h1>" in page.text
    assert "/patient/identify" not in page.text
    # And a referral made from it is the known record's.
    form = pages.get("/patient/referral")
    assert form.status_code == 200
    assert "Kovalenko-Known" in form.text
