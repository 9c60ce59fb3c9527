"""Sending: routing by home municipality, validation, idempotent retries, the worklist."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.organisations.models import CounsellingService, ServiceCatchment
from app.referrals.models import Referral
from tests.fixtures.factories import demo_patient, referral_body, send_referral
from tests.fixtures.round_trips import RoundTrips

Auth = Callable[[str], dict[str, str]]


def service_code(session: Session, service_id: str) -> str:
    statement = select(CounsellingService.code).where(
        CounsellingService.id == uuid.UUID(service_id)
    )
    return session.scalars(statement).one()


@pytest.mark.parametrize(
    ("municipality", "service"),
    [("399", "ln-laihia"), ("152", "ln-isokyro"), ("231", "ln-kaskinen")],
)
def test_routed_to_the_service_of_the_home_municipality(
    client: TestClient, auth: Auth, session: Session, municipality: str, service: str
) -> None:
    patient = demo_patient(session, municipality)
    referral = send_referral(client, auth, patient.id, sender="nurse.kaskinen")
    assert service_code(session, referral["service_id"]) == service


def test_in_the_bilingual_municipality_the_patients_language_decides(
    client: TestClient, auth: Auth, session: Session
) -> None:
    kaskinen = session.scalars(
        select(CounsellingService).where(CounsellingService.code == "ln-kaskinen")
    ).one()
    # A Finnish-only service of the same municipality, first in every other order.
    finnish_only = CounsellingService(
        code="aa-kaskinen-fi",
        municipality_id=kaskinen.municipality_id,
        name_fi="Kaskisten suomenkielinen liikuntaneuvonta",
        name_sv="Kaskö finskspråkig motionsrådgivning",
        languages=["fi"],
        modes=["in_person"],
        locations=[],
        catchment=[ServiceCatchment(municipality_code="231")],
    )
    session.add(finnish_only)
    session.flush()
    patient = demo_patient(session, "231")
    swedish = send_referral(
        client, auth, patient.id, sender="doctor.kaskinen", preferred_language="sv"
    )
    finnish = send_referral(
        client, auth, patient.id, sender="doctor.kaskinen", preferred_language="fi"
    )
    assert service_code(session, swedish["service_id"]) == "ln-kaskinen"
    assert service_code(session, finnish["service_id"]) == "aa-kaskinen-fi"


def test_a_named_service_wins(client: TestClient, auth: Auth, session: Session) -> None:
    kaskinen = session.scalars(
        select(CounsellingService).where(CounsellingService.code == "ln-kaskinen")
    ).one()
    patient = demo_patient(session, "399")
    referral = send_referral(client, auth, patient.id, service_id=str(kaskinen.id))
    assert referral["service_id"] == str(kaskinen.id)


def test_no_service_for_the_municipality_is_a_clear_422(client: TestClient, auth: Auth) -> None:
    outsider = {
        "hetu": "010203A9987",
        "given_name": "Ulla",
        "family_name": "Ulkopuolinen",
        "home_municipality_code": "049",
    }
    created = client.post("/api/v1/patients", json=outsider, headers=auth("doctor.laihia"))
    assert created.status_code == 201, created.text
    response = client.post(
        "/api/v1/referrals",
        json=referral_body(created.json()["id"]),
        headers={**auth("doctor.laihia"), "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "no_service_for_municipality"
    assert "049" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"consent_to_counselling": False}, "consent_required"),
        ({"patient_id": "00000000-0000-4000-8000-000000000000"}, "unknown_patient"),
        ({"service_id": "00000000-0000-4000-8000-000000000000"}, "unknown_service"),
        ({"reason_codes": []}, "validation_failed"),
        ({"reason_codes": [{"system": "icd10", "code": "E119"}]}, "validation_failed"),
        ({"reason_codes": [{"system": "icpc2", "code": "E11.9"}]}, "validation_failed"),
        ({"reason_codes": [{"system": "snomed", "code": "123"}]}, "validation_failed"),
        ({"urgency": "asap"}, "validation_failed"),
        ({"goal": ""}, "validation_failed"),
        ({"reason_text": "x" * 4001}, "validation_failed"),
        ({"unexpected": True}, "validation_failed"),
    ],
)
def test_invalid_referrals_are_refused_and_nothing_is_saved(
    client: TestClient, auth: Auth, session: Session, change: dict[str, Any], code: str
) -> None:
    before = session.scalar(select(func.count()).select_from(Referral))
    body = {**referral_body(demo_patient(session, "399").id), **change}
    response = client.post("/api/v1/referrals", json=body, headers=auth("doctor.laihia"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert session.scalar(select(func.count()).select_from(Referral)) == before


def test_codes_are_normalised(client: TestClient, auth: Auth, session: Session) -> None:
    codes = [{"system": "icd10", "code": " e11.9 "}, {"system": "icpc2", "code": "t90"}]
    referral = send_referral(client, auth, demo_patient(session, "399").id, reason_codes=codes)
    assert referral["reason_codes"] == [
        {"system": "icd10", "code": "E11.9"},
        {"system": "icpc2", "code": "T90"},
    ]


def test_an_idempotent_retry_returns_the_same_referral_and_no_twin(
    client: TestClient, auth: Auth, session: Session
) -> None:
    body = referral_body(demo_patient(session, "152").id)
    headers = {**auth("doctor.isokyro"), "Idempotency-Key": "referral-2026-11-28-001"}
    first = client.post("/api/v1/referrals", json=body, headers=headers)
    retry = client.post("/api/v1/referrals", json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    count = (
        select(func.count())
        .select_from(Referral)
        .where(Referral.referrer_subject == "doctor.isokyro")
    )
    assert session.scalar(count) == 1


def test_the_worklist_is_ordered_paged_and_one_query_per_page(
    client: TestClient, auth: Auth, session: Session, round_trips: RoundTrips
) -> None:
    patients = [demo_patient(session, "152", i) for i in range(6)]
    sent = [
        send_referral(
            client,
            auth,
            p.id,
            sender="nurse.isokyro",
            urgency="urgent" if i in (1, 4) else "routine",
        )
        for i, p in enumerate(patients)
    ]
    expected = [
        sent[4]["id"],
        sent[1]["id"],
        sent[5]["id"],
        sent[3]["id"],
        sent[2]["id"],
        sent[0]["id"],
    ]
    headers = auth("counsellor1.isokyro")
    seen: list[str] = []
    cursor = None
    queries_per_page = []
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        with round_trips.counting() as statements:
            page = client.get("/api/v1/referrals", params=params, headers=headers).json()
        queries_per_page.append(sum("FROM referrals" in s for s in statements))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert set(queries_per_page) == {1}
    with round_trips.counting():
        client.get("/api/v1/referrals", params={"limit": 6}, headers=headers)
    big_page = len(round_trips)
    with round_trips.counting():
        client.get("/api/v1/referrals", params={"limit": 2}, headers=headers)
    assert len(round_trips) == big_page, "a longer page must not cost more round trips"


def test_worklist_filters(client: TestClient, auth: Auth, session: Session) -> None:
    urgent = send_referral(
        client, auth, demo_patient(session, "152", 0).id, sender="nurse.isokyro", urgency="urgent"
    )
    send_referral(client, auth, demo_patient(session, "152", 1).id, sender="nurse.isokyro")
    headers = auth("counsellor1.isokyro")
    only_urgent = client.get(
        "/api/v1/referrals", params={"urgency": "urgent"}, headers=headers
    ).json()
    assert [item["id"] for item in only_urgent["items"]] == [urgent["id"]]
    by_status = client.get(
        "/api/v1/referrals", params={"status": ["accepted", "in_progress"]}, headers=headers
    )
    assert by_status.json()["items"] == []
    today = urgent["created_at"][:10]
    dated = client.get(
        "/api/v1/referrals", params={"created_from": today, "created_to": today}, headers=headers
    )
    assert len(dated.json()["items"]) == 2
    assert dated.json()["items"][0]["patient"]["family_name"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ==", "W10="])
def test_a_forged_cursor_is_refused(client: TestClient, auth: Auth, cursor: str) -> None:
    response = client.get(
        "/api/v1/referrals", params={"cursor": cursor}, headers=auth("counsellor1.isokyro")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


def test_only_clinical_professions_refer(client: TestClient, auth: Auth, session: Session) -> None:
    from app.access.models import User

    nurse = session.scalars(select(User).where(User.username == "nurse.laihia")).one()
    nurse.profession = "counsellor"
    session.flush()
    body = referral_body(demo_patient(session, "399").id)
    assert (
        client.post("/api/v1/referrals", json=body, headers=auth("nurse.laihia")).status_code == 403
    )
