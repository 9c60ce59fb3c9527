"""Patients without a personal identity code in FHIR: a Patient the region sends with its
temporary identifier registers them, one that carries the code too identifies them; what Askel
publishes names them by the temporary identifier until the code arrives, then by the code with
the temporary one kept as old."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.fhir_sync.links import search_match
from app.fhir_sync.resources import referral_set
from app.patients.hetu import make_hetu
from app.patients.temporary_ids import TemporaryId
from tests.fhir_sync.test_inbound import _bundle, post
from tests.fhir_sync.test_mappings import _validate
from tests.fixtures.fhir_scene import HETU, refer, scene

Auth = Callable[[str], dict[str, str]]
TEMPORARY = TemporaryId(system="urn:oid:1.2.246.10.1234567.22.2026", value="000731")


def _published_patient(hetu: str | None) -> Any:
    records = dataclasses.replace(scene(), hetu=hetu, temporary_id=TEMPORARY)
    return next(r for r in referral_set(records, refer) if r.resource_type == "Patient")


def test_until_the_code_arrives_the_patient_is_published_by_the_temporary_identifier() -> None:
    published = _published_patient(None)
    assert published.body["identifier"] == [
        {"use": "temp", "system": TEMPORARY.system, "value": "000731"}
    ]
    _validate(published.body)
    assert search_match(published) == f"identifier={TEMPORARY.system}|000731"


def test_after_it_the_code_comes_first_and_the_temporary_identifier_is_old() -> None:
    published = _published_patient(HETU)
    first, old = published.body["identifier"]
    assert (first["use"], first["system"], first["value"]) == (
        "official",
        "urn:oid:1.2.246.21",
        HETU,
    )
    assert old == {"use": "old", "system": TEMPORARY.system, "value": "000731"}
    _validate(published.body)
    assert search_match(published) == f"identifier=urn:oid:1.2.246.21|{HETU}"


def _temporary_bundle(with_code: str | None = None) -> dict[str, Any]:
    bundle = _bundle(make_hetu(date(1990, 1, 1), 930))
    patient = bundle["entry"][0]["resource"]
    identifiers = [{"use": "temp", "system": TEMPORARY.system, "value": TEMPORARY.value}]
    if with_code:
        identifiers.insert(0, {"system": "urn:oid:1.2.246.21", "value": with_code})
    patient["identifier"] = identifiers
    patient["birthDate"] = "2026-10-30"
    patient["gender"] = "male"
    return bundle


def test_a_patient_sent_with_a_temporary_identifier_is_registered_by_it(
    client: TestClient, auth: Auth
) -> None:
    response = post(client, auth, _temporary_bundle(), path="")
    assert response.status_code == 200, response.text
    found = client.post(
        "/api/v1/patients/lookup",
        json={"temporary_id": {"system": TEMPORARY.system, "value": TEMPORARY.value}},
        headers=auth("doctor.laihia"),
    )
    assert found.status_code == 200, found.text
    assert (found.json()["birth_date"], found.json()["sex"]) == ("2026-10-30", "male")
    assert found.json()["identified_by"] == "temporary_identifier"


def test_without_a_code_the_birth_date_is_needed(client: TestClient, auth: Auth) -> None:
    bundle = _temporary_bundle()
    del bundle["entry"][0]["resource"]["birthDate"]
    response = post(client, auth, bundle, path="")
    assert response.status_code == 422, response.text
    assert "Patient.birthDate" in response.text


def test_the_code_sent_later_identifies_the_patient(
    client: TestClient, auth: Auth, session: Session
) -> None:
    first = post(client, auth, _temporary_bundle(), path="")
    assert first.status_code == 200, first.text
    code = make_hetu(date(2026, 10, 30), 932)
    later = copy.deepcopy(_temporary_bundle(with_code=code))
    later["entry"][1]["resource"]["identifier"] = [{"system": "urn:region", "value": "B-2"}]
    response = post(client, auth, later, path="")
    assert response.status_code == 200, response.text
    by_code = client.post(
        "/api/v1/patients/lookup", json={"hetu": code}, headers=auth("doctor.laihia")
    )
    assert by_code.status_code == 200, by_code.text
    by_temporary = client.post(
        "/api/v1/patients/lookup",
        json={"temporary_id": {"system": TEMPORARY.system, "value": TEMPORARY.value}},
        headers=auth("doctor.laihia"),
    )
    assert by_code.json()["id"] == by_temporary.json()["id"]
    assert by_code.json()["identified_by"] == "identity_code"
