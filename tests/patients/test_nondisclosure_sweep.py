"""A sweep for a protected patient's details: after a referral's life up to a visit and a plan,
every answer of the API that the referrer and the counsellor may read, and every page they
open about it, is searched for the patient's phone and home municipality."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.patients.models import Patient
from app.patients.protection import unseal
from tests.counselling.test_tab import PLAN
from tests.fixtures.journeys import COUNSELLOR, booked_referral, visit_body
from tests.fixtures.pages import page_client, sign_in
from tests.fixtures.referring import find

Auth = Callable[[str], dict[str, str]]
PHONE = "+358409876543"
REFERRER = "doctor.laihia"


def _about_the_patient(value: Any, patient_id: str) -> Iterator[dict[str, Any]]:
    """Every object in an answer that describes the patient or names them as its patient."""
    if isinstance(value, dict):
        if patient_id in (value.get("id"), value.get("patient_id")):
            yield value
        for inner in value.values():
            yield from _about_the_patient(inner, patient_id)
    elif isinstance(value, list):
        for inner in value:
            yield from _about_the_patient(inner, patient_id)


def _hetu(session: Session, patient_id: str) -> str:
    patient = session.get(Patient, uuid.UUID(patient_id))
    assert patient is not None
    assert patient.hetu_ciphertext is not None
    return unseal(patient.hetu_ciphertext, patient.id)


def _journey(client: TestClient, auth: Auth, session: Session) -> dict[str, str]:
    referral, appointment = booked_referral(client, auth, session)
    patient = session.get(Patient, uuid.UUID(referral["patient_id"]))
    assert patient is not None
    patient.security_prohibition, patient.phone = True, PHONE
    session.flush()
    visit = client.post(
        f"/api/v1/referrals/{referral['id']}/visits",
        json=visit_body(appointment_id=appointment["id"]),
        headers=auth(COUNSELLOR),
    )
    assert visit.status_code == 201, visit.text
    plan = client.put(
        f"/api/v1/referrals/{referral['id']}/plan", json=PLAN, headers=auth(COUNSELLOR)
    )
    assert plan.status_code == 200, plan.text
    return {
        "referral_id": referral["id"],
        "patient_id": referral["patient_id"],
        "appointment_id": appointment["id"],
        "visit_id": visit.json()["id"],
        "counsellor_id": appointment["counsellor_id"],
    }


def _readable(client: TestClient, ids: dict[str, str]) -> list[str]:
    """The API's GET routes whose every parameter in the path the journey has a value for."""
    paths = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if "get" in operations and names and all(name in ids for name in names):
            paths.append(path.format(**ids))
    return paths


# The pages about one referral, an appointment and the patient chosen, as the worklists link
# them.
PAGES = ("/referrals/{referral_id}", "/referrals/{referral_id}/visits",
         "/referrals/{referral_id}/plan", "/referrals/{referral_id}/plan/print",
         "/referrals/{referral_id}/plan/versions", "/referrals/{referral_id}/book",
         "/referrals/{referral_id}/complete", "/appointments/{appointment_id}",
         "/appointments/{appointment_id}/confirmation", "/worklist", "/referrals/sent",
         "/calendar")  # fmt: skip


def test_no_answer_of_the_api_carries_the_protected_details(
    app: FastAPI, client: TestClient, auth: Auth, session: Session
) -> None:
    ids = _journey(client, auth, session)
    paths = [*_readable(client, ids), "/api/v1/referrals", "/api/v1/appointments"]
    assert len(paths) >= 8
    read = 0
    hetu = _hetu(session, ids["patient_id"])
    for user in (REFERRER, COUNSELLOR):
        looked_up = client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(user))
        for path, answer in [("lookup", looked_up)] + [
            (path, client.get(path, headers=auth(user))) for path in paths
        ]:
            assert answer.status_code < 500, (path, answer.text)
            assert PHONE not in answer.text, (user, path)
            if answer.status_code != 200 or "json" not in answer.headers["content-type"]:
                continue
            for about in _about_the_patient(answer.json(), ids["patient_id"]):
                read += 1
                assert about.get("home_municipality_code") is None, (user, path)
                assert about.get("phone") is None, (user, path)
    # The sweep read the patient, the referral, its visits, plan and appointment.
    assert read >= 7


def test_no_page_about_the_patient_carries_the_phone(
    app: FastAPI, client: TestClient, auth: Auth, session: Session
) -> None:
    ids = _journey(client, auth, session)
    paths = [page.format(**ids) for page in PAGES]
    hetu = _hetu(session, ids["patient_id"])
    shown: dict[str, int] = {}
    for user in (REFERRER, COUNSELLOR):
        pages = page_client(TestClient(app))
        sign_in(pages, user)
        # The referrer finds the patient, as from the chart, and opens their page.
        if user == REFERRER:
            assert find(pages, hetu).status_code == 303
        for path in [*paths, "/patient"] if user == REFERRER else paths:
            page = pages.get(path)
            assert page.status_code < 500, (path, page.text)
            assert PHONE not in page.text, (user, path)
            shown[user] = shown.get(user, 0) + (page.status_code == 200)
    # Each opened the pages their role has about the referral, not only refusals.
    assert shown[REFERRER] >= 4
    assert shown[COUNSELLOR] >= 8
