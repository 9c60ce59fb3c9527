"""Children and families: a minor's guardians, recorded by those caring for the child and told
of the child's appointments in their own language; who consented to the referral; a guardian at
the visit, and family visits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.jobs.worker import run_once
from app.kit.clock import today_in_helsinki
from app.notices import service as notices
from app.notices.channel import FileChannel
from app.patients.hetu import make_hetu
from tests.fixtures.factories import act, demo_patient, referral_body, send_referral
from tests.scheduling.test_booking import RULES, book, search, user_id

Auth = Callable[[str], dict[str, str]]
TODAY = today_in_helsinki()
GUARDIANS = {
    "guardians": [
        {"name": "Maria Virtanen", "relation": "parent", "phone": "+358401110001",
         "language": "sv"},
        {"name": "Jari Virtanen", "relation": "parent", "phone": "+358401110002",
         "language": "en", "receives_notices": False},
    ]
}  # fmt: skip


def register_child(client: TestClient, auth: Auth, **extra: Any) -> dict[str, Any]:
    body = {
        "hetu": make_hetu(date(TODAY.year - 11, 3, 4), 940),
        "given_name": "Eetu",
        "family_name": "Virtanen",
        "home_municipality_code": "399",
        "language": "fi",
        **extra,
    }
    response = client.post("/api/v1/patients", json=body, headers=auth("doctor.laihia"))
    assert response.status_code == 201, response.text
    child: dict[str, Any] = response.json()
    return child


def _put(client: TestClient, auth: Auth, patient_id: str, user: str = "doctor.laihia") -> Any:
    return client.put(
        f"/api/v1/patients/{patient_id}/guardians", json=GUARDIANS, headers=auth(user)
    )


def test_those_caring_for_a_child_record_and_read_the_guardians(
    client: TestClient, auth: Auth, session: Session
) -> None:
    child = register_child(client, auth)
    send_referral(client, auth, uuid.UUID(child["id"]), consent_given_by="guardian")
    response = _put(client, auth, child["id"])
    assert response.status_code == 200, response.text
    assert [g["name"] for g in response.json()["guardians"]] == ["Jari Virtanen", "Maria Virtanen"]
    read = client.get(
        f"/api/v1/patients/{child['id']}/guardians", headers=auth("counsellor1.laihia")
    )
    assert read.status_code == 200, read.text
    assert read.json()["minor"] is True
    assert len(read.json()["guardians"]) == 2
    # Sending the list again replaces it: no twins.
    assert len(_put(client, auth, child["id"]).json()["guardians"]) == 2
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.patient_id == uuid.UUID(child["id"]), AuditEvent.resource_type == "Guardians"
        )
    ).all()
    assert sorted(actions) == ["read", "update", "update"]


@pytest.mark.parametrize("user", ["doctor.kaskinen", "counsellor1.kaskinen", "statistician.region",
                                  "auditor.region", "admin.region", "patient-system"])  # fmt: skip
def test_anyone_else_finds_no_such_patient(client: TestClient, auth: Auth, user: str) -> None:
    child = register_child(client, auth)
    send_referral(client, auth, uuid.UUID(child["id"]))
    assert _put(client, auth, child["id"], user).status_code == 404
    listed = client.get(f"/api/v1/patients/{child['id']}/guardians", headers=auth(user))
    assert listed.status_code == 404
    assert "Virtanen" not in listed.text


def test_an_adult_has_no_guardians_here(client: TestClient, auth: Auth, session: Session) -> None:
    adult = demo_patient(session, "399")
    send_referral(client, auth, adult.id)
    response = _put(client, auth, str(adult.id))
    assert response.status_code == 422
    assert response.json()["code"] == "not_a_minor"


def test_a_guardian_consents_only_for_a_minor(
    client: TestClient, auth: Auth, session: Session
) -> None:
    child = register_child(client, auth)
    sent = send_referral(client, auth, uuid.UUID(child["id"]), consent_given_by="guardian")
    assert sent["consent_given_by"] == "guardian"
    adult = demo_patient(session, "399")
    response = client.post(
        "/api/v1/referrals",
        json=referral_body(adult.id, consent_given_by="guardian"),
        headers={**auth("doctor.laihia"), "Accept-Language": "sv"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "guardian_consent_for_adult"


def test_a_childs_notices_go_to_the_guardians_in_their_language(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, tmp_path: Path
) -> None:
    child = register_child(client, auth, phone="+358401110009")
    referral = send_referral(client, auth, uuid.UUID(child["id"]))
    assert _put(client, auth, child["id"]).status_code == 200
    counsellor = user_id(session, "counsellor1.laihia")
    client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": RULES},
        headers=auth("counsellor1.laihia"),
    )
    slot = search(client, auth, uuid.UUID(referral["service_id"]))[2]
    assert book(client, auth, slot, referral).status_code == 201
    out = tmp_path / "notices.jsonl"
    channel = FileChannel(out)
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, channel)}
    assert run_once(app.state.db, handlers) == 1
    sent = {line["to"]: line["text"] for line in map(json.loads, out.read_text().splitlines())}
    # The child's own phone, in the child's language, and the guardian who receives notices,
    # in hers; not the one who asked for none.
    assert set(sent) == {"+358401110009", "+358401110001"}
    assert sent["+358401110001"].startswith("Motionsrådgivning")
    assert sent["+358401110009"].startswith("Liikuntaneuvonta")
    disclosures = session.scalars(
        select(AuditEvent).where(
            AuditEvent.patient_id == uuid.UUID(child["id"]), AuditEvent.action == "disclose"
        )
    ).all()
    assert len(disclosures) == 2


def test_a_visit_records_a_guardian_present_and_a_family_visit(
    client: TestClient, auth: Auth
) -> None:
    child = register_child(client, auth)
    referral = send_referral(client, auth, uuid.UUID(child["id"]))
    read = client.get(f"/api/v1/referrals/{referral['id']}", headers=auth("counsellor1.laihia"))
    assert act(client, auth, "counsellor1.laihia", read.json(), "accept").status_code == 200
    visit = {"visited_on": str(TODAY), "contact_type": "in_person", "duration_minutes": 45,
             "guardian_present": True, "family_visit": True}  # fmt: skip
    recorded = client.post(
        f"/api/v1/referrals/{referral['id']}/visits", json=visit, headers=auth("counsellor1.laihia")
    )
    assert recorded.status_code == 201, recorded.text
    assert (recorded.json()["guardian_present"], recorded.json()["family_visit"]) == (True, True)
    tab = client.get(
        f"/api/v1/referrals/{referral['id']}/visits", headers=auth("counsellor1.laihia")
    )
    assert tab.json()["items"][0]["family_visit"] is True
