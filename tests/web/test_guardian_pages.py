"""A minor's guardians on the pages, reached from a referral of the child's: recorded by the
counsellor or the clinician caring for the child (the API's service and policy, the same audit
entries), each message beside the row it is about, and refused to everyone else."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.families.models import Guardian
from app.kit.clock import today_in_helsinki
from tests.families.test_guardians import register_child
from tests.fixtures.factories import Auth, demo_patient, send_referral
from tests.fixtures.pages import follow, form_for, sign_in

COUNSELLOR = "counsellor1.laihia"
TODAY = today_in_helsinki()


def _child_referral(client: TestClient, auth: Auth) -> dict[str, Any]:
    child = register_child(client, auth)
    return send_referral(client, auth, uuid.UUID(child["id"]), consent_given_by="guardian")


def _guardians(session: Session, patient_id: str) -> list[tuple[str, str | None, str, bool]]:
    rows = session.scalars(
        select(Guardian).where(Guardian.patient_id == uuid.UUID(patient_id)).order_by(Guardian.name)
    )
    return [(g.name, g.phone, g.language, g.receives_notices) for g in rows]


def _rows(**typed: str) -> dict[str, str]:
    return {f"guardians.{name.replace('_', '.', 1)}": value for name, value in typed.items()}


def test_a_childs_referral_leads_to_the_guardians_an_adults_does_not(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = _child_referral(client, auth)
    adult = send_referral(client, auth, demo_patient(session, "399").id)
    sign_in(pages, COUNSELLOR)
    child_page = pages.get(f"/referrals/{referral['id']}")
    assert f'href="/referrals/{referral["id"]}/guardians"' in child_page.text
    adult_page = pages.get(f"/referrals/{adult['id']}")
    assert "/guardians" not in adult_page.text
    adults_guardians = pages.get(f"/referrals/{adult['id']}/guardians")
    assert adults_guardians.status_code == 200
    assert "Potilas on täyttänyt 18 vuotta" in adults_guardians.text
    assert 'action="/referrals/' not in adults_guardians.text


def test_the_counsellor_records_the_guardians_an_empty_row_is_none(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = _child_referral(client, auth)
    sign_in(pages, COUNSELLOR)
    page = pages.get(f"/referrals/{referral['id']}/guardians")
    assert page.status_code == 200
    assert "<h1>Virtanen, Eetu" in page.text
    # An empty row offers the API's defaults: told of the appointments.
    assert re.search(r'name="guardians\.3\.receives_notices" value="true"\s*checked', page.text)
    fields = form_for(page.text, f"/referrals/{referral['id']}/guardians")
    typed = {
        **_rows(
            **{"0_name": "Liisa Mäkelä", "0_relation": "parent", "0_phone": "+358401110011",
               "0_language": "sv", "0_receives_notices": "true",
               "2_name": "Kari Mäkelä", "2_relation": "other", "2_language": "en"}
        )
    }  # fmt: skip
    done = pages.post(f"/referrals/{referral['id']}/guardians", data={**fields, **typed})
    assert done.status_code == 303
    after = follow(pages, done)
    assert "Huoltajat on kirjattu." in after.text
    # The box of the second one left unticked: told of nothing.
    assert _guardians(session, referral["patient_id"]) == [
        ("Kari Mäkelä", None, "en", False),
        ("Liisa Mäkelä", "+358401110011", "sv", True),
    ]
    audited = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.resource_type == "Guardians",
            AuditEvent.patient_id == uuid.UUID(referral["patient_id"]),
        )
    ).all()
    assert "update" in audited
    # The page shows them again as recorded, and the API reads the same.
    again = pages.get(f"/referrals/{referral['id']}/guardians")
    assert 'value="Liisa Mäkelä"' in again.text
    read = client.get(
        f"/api/v1/patients/{referral['patient_id']}/guardians", headers=auth("doctor.laihia")
    )
    assert [g["name"] for g in read.json()["guardians"]] == ["Kari Mäkelä", "Liisa Mäkelä"]


def test_a_wrong_phone_is_said_beside_its_row_and_nothing_is_recorded(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = _child_referral(client, auth)
    sign_in(pages, "doctor.laihia")
    page = pages.get(f"/referrals/{referral['id']}/guardians")
    fields = form_for(page.text, f"/referrals/{referral['id']}/guardians")
    typed = _rows(**{"0_name": "Liisa Mäkelä", "2_name": "Kari Mäkelä", "2_phone": "040 123"})
    refused = pages.post(f"/referrals/{referral['id']}/guardians", data={**fields, **typed})
    assert refused.status_code == 422
    assert 'id="guardians-2-phone-error"' in refused.text
    assert 'href="#guardians-2-phone"' in refused.text
    assert 'value="Kari Mäkelä"' in refused.text
    assert _guardians(session, referral["patient_id"]) == []


@pytest.mark.parametrize(("username", "status"), [("counsellor1.kaskinen", 404),
                                                   ("doctor.isokyro", 404),
                                                   ("statistician.region", 404)])  # fmt: skip
def test_those_not_caring_for_the_child_are_refused(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, username: str, status: int
) -> None:
    referral = _child_referral(client, auth)
    token = form_for(sign_in(pages, username).text, "/signout")
    path = f"/referrals/{referral['id']}/guardians"
    assert pages.get(path).status_code == status
    posted = pages.post(path, data={**token, **_rows(**{"0_name": "Someone Else"})})
    assert posted.status_code == status
    assert _guardians(session, referral["patient_id"]) == []


def test_the_guardians_page_speaks_swedish(
    pages: TestClient, client: TestClient, auth: Auth
) -> None:
    referral = _child_referral(client, auth)
    sign_in(pages, COUNSELLOR)
    page = pages.get(f"/referrals/{referral['id']}/guardians", headers={"Accept-Language": "sv"})
    assert "Vårdnadshavare 1" in page.text
    assert "Registrera vårdnadshavarna" in page.text
