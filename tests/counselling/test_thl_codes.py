"""A visit read through the API carries THL's classifications: the referral's first standing
visit is the first visit and the rest follow-ups, phone and video both THL's real-time remote
contact and apart in Askel's own contact type (the occupation: tests/classifications); a
corrected original carries none. A mode written in another spelling is answered in the
vocabulary's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import today_in_helsinki
from tests.counselling.test_tab import COUNSELLOR, record, visit
from tests.fixtures.factories import demo_patient, referral_body, send_referral

Auth = Callable[[str], dict[str, str]]
DAY = today_in_helsinki() - timedelta(days=30)


def _codes(read: dict[str, Any]) -> tuple[str, str, bool]:
    thl = read["thl"]
    return read["contact_type"], thl["contact_type"]["code"], thl["first_visit"]


def test_the_first_visit_and_the_follow_ups_by_phone_and_video(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    first = record(client, auth, referral, visited_on=str(DAY - timedelta(days=7)))
    by_phone = record(client, auth, referral, contact_type="phone", visited_on=str(DAY))
    by_video = record(client, auth, referral, contact_type="video", visited_on=str(DAY))
    assert [r.status_code for r in (first, by_phone, by_video)] == [201] * 3
    assert _codes(first.json()) == ("in_person", "R10", True)
    assert _codes(by_phone.json()) == ("phone", "R52", False)
    assert _codes(by_video.json()) == ("video", "R52", False)
    thl = first.json()["thl"]
    assert thl["contact_type"]["system"] == "urn:oid:1.2.246.537.6.127"
    assert (thl["procedure"]["system"], thl["procedure"]["code"]) == (
        "urn:oid:1.2.246.537.6.128",
        "SPAT1305",
    )
    assert (thl["nature"]["code"], thl["service_class"]["code"]) == ("TH", "T29")
    tab = client.get(f"/api/v1/referrals/{referral['id']}/visits", headers=auth(COUNSELLOR))
    assert [_codes(v) for v in tab.json()["items"]] == [("in_person", "R10", True),
                                                           ("phone", "R52", False),
                                                           ("video", "R52", False)]  # fmt: skip


def test_a_correction_of_the_first_visit_is_the_first_and_its_original_has_none(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    original = record(client, auth, referral).json()
    fixed = {**visit(contact_type="telephone"), "reason": "Käynti oli puhelimitse."}
    response = client.post(
        f"/api/v1/visits/{original['id']}/corrections", json=fixed, headers=auth(COUNSELLOR)
    )
    assert response.status_code == 201, response.text
    assert response.json()["contact_type"] == "phone"
    assert _codes(response.json()) == ("phone", "R52", True)
    tab = client.get(f"/api/v1/referrals/{referral['id']}/visits", headers=auth(COUNSELLOR))
    by_id = {v["id"]: v for v in tab.json()["items"]}
    assert by_id[original["id"]]["thl"] is None


def test_a_referral_asking_for_a_mode_in_another_spelling(
    client: TestClient, auth: Auth, session: Session
) -> None:
    sent = send_referral(client, auth, demo_patient(session, "399").id, contact_mode="visit")
    assert sent["contact_mode"] == "in_person"
    refused = client.post(
        "/api/v1/referrals",
        json=referral_body(demo_patient(session, "399", 1).id, contact_mode="fax"),
        headers=auth("doctor.laihia"),
    )
    assert refused.status_code == 422
