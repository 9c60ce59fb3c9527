"""The counselling tab through HTTP: visits, corrections, the versioned plan made with the
patient, who may read and write it, and the outcome summary for the referrer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.models import User
from app.jobs.models import OutboxEvent
from app.kit.clock import add_months, today_in_helsinki
from app.scheduling.models import Appointment
from tests.fixtures.factories import act, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"
TODAY = today_in_helsinki()


def visit(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visited_on": str(TODAY - timedelta(days=30)),
        "contact_type": "in_person",
        "duration_minutes": 60,
        "mvpa_days_per_week": 2,
        "mvpa_minutes_per_day": 20,
        "strength_days_per_week": 0,
        "sitting_hours_per_day": 9.5,
        "stage_of_change": "preparation",
        "barriers": "Polvikipu, vuorotyö.",
        "weight_kg": 92.5,
        "waist_cm": 104,
        "systolic_mmhg": 142,
        "diastolic_mmhg": 88,
        "fitness_test": {"name": "UKK-kävelytesti", "value": 68, "unit": "indeksi"},
        "note": "Motivoitunut aloittamaan kävelyllä.",
    }
    body.update(overrides)
    return body


PLAN: dict[str, Any] = {
    "goals": [
        {"what": "Reipasta liikuntaa 150 min/vko", "measure": "minutes_per_week", "target": 150,
         "target_date": str(TODAY + timedelta(days=180))},
        {"what": "Lihaskuntoa 2 krt/vko", "measure": "strength_days_per_week", "target": 2,
         "target_date": str(TODAY + timedelta(days=180))},
    ],
    "activities": [
        {"kind": "kävely", "frequency_per_week": 5, "minutes": 30, "intensity": "moderate"},
        {"kind": "kuntosali", "frequency_per_week": 2, "minutes": 45, "intensity": "moderate",
         "where": "Laihian kuntosali, seniorivuoro"},
    ],
    "support_agreed": "Puhelinsoitto kuukauden päästä.",
    "follow_up_months": [1, 3, 6, 12],
    "agreed_with_patient": True,
    "agreed_on": str(TODAY),
    "agreed_how": "in_person",
}  # fmt: skip


def record(client: TestClient, auth: Auth, referral: dict[str, Any], **overrides: Any) -> Any:
    return client.post(
        f"/api/v1/referrals/{referral['id']}/visits",
        json=visit(**overrides),
        headers=auth(COUNSELLOR),
    )


def test_recording_a_visit(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    response = record(client, auth, referral)
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["minutes_per_week"] == 40
    assert recorded["counsellor_subject"] == COUNSELLOR
    assert recorded["corrected"] is False
    # The first visit on an accepted referral: counselling is in progress.
    opened = client.get(f"/api/v1/referrals/{referral['id']}", headers=auth("doctor.laihia")).json()
    assert opened["status"] == "in_progress"
    timeline = client.get(
        f"/api/v1/referrals/{referral['id']}/events", headers=auth("doctor.laihia")
    )
    assert [e["action"] for e in timeline.json()["items"]][-2:] == ["start", "visit_recorded"]
    created = session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "Visit")).one()
    assert (created.action, str(created.resource_id)) == ("create", recorded["id"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mvpa_days_per_week": 8}, "body.mvpa_days_per_week"),
        ({"mvpa_minutes_per_day": -5}, "body.mvpa_minutes_per_day"),
        ({"weight_kg": 900}, "body.weight_kg"),
        ({"sitting_hours_per_day": 25}, "body.sitting_hours_per_day"),
        ({"duration_minutes": 0}, "body.duration_minutes"),
        ({"contact_type": "telepathy"}, "body.contact_type"),
    ],
)
@pytest.mark.parametrize(
    ("language", "words"),
    [("fi", "Arvo"), ("sv", "Värdet"), ("en", "value")],
)
def test_impossible_values_are_refused_in_three_languages(
    client: TestClient,
    auth: Auth,
    referral: dict[str, Any],
    change: dict[str, Any],
    field: str,
    language: str,
    words: str,
) -> None:
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/visits",
        json=visit(**change),
        headers={**auth(COUNSELLOR), "Accept-Language": language},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert words in errors[0]["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"visited_on": str(TODAY + timedelta(days=1))},
        {"mvpa_minutes_per_day": None},
        {"systolic_mmhg": 80, "diastolic_mmhg": 90},
        {"diastolic_mmhg": None},
    ],
)
def test_inconsistent_values_are_refused(
    client: TestClient, auth: Auth, referral: dict[str, Any], change: dict[str, Any]
) -> None:
    assert record(client, auth, referral, **change).status_code == 422


@pytest.mark.parametrize("reader", ["doctor.laihia", "nurse.laihia", "physiotherapist.laihia",
                                    "counsellor1.laihia", "counsellor2.laihia"])  # fmt: skip
def test_who_reads_the_tab(
    client: TestClient, auth: Auth, referral: dict[str, Any], reader: str
) -> None:
    record(client, auth, referral)
    response = client.get(f"/api/v1/referrals/{referral['id']}/visits", headers=auth(reader))
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


@pytest.mark.parametrize(
    "outsider",
    ["counsellor1.kaskinen", "doctor.isokyro", "statistician.region", "auditor.region",
     "admin.region", "admin.laihia", "patient-system"],
)  # fmt: skip
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/referrals/{id}/visits"),
        ("POST", "/api/v1/referrals/{id}/visits"),
        ("GET", "/api/v1/referrals/{id}/plan"),
        ("PUT", "/api/v1/referrals/{id}/plan"),
        ("GET", "/api/v1/referrals/{id}/outcome"),
    ],
)
def test_everyone_else_gets_404_and_an_audit_entry(
    client: TestClient,
    auth: Auth,
    session: Session,
    referral: dict[str, Any],
    outsider: str,
    method: str,
    path: str,
) -> None:
    body = {"POST": visit(), "PUT": PLAN}.get(method)
    response = client.request(
        method, path.format(id=referral["id"]), json=body, headers=auth(outsider)
    )
    assert response.status_code == 404, response.text
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (last.actor, last.outcome, str(last.patient_id)) == (
        outsider,
        "not_found",
        referral["patient_id"],
    )


def test_clinicians_read_but_do_not_write(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}"
    assert (
        client.post(f"{url}/visits", json=visit(), headers=auth("doctor.laihia")).status_code == 403
    )
    assert client.put(f"{url}/plan", json=PLAN, headers=auth("nurse.laihia")).status_code == 403


def test_a_correction_keeps_the_original(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    original = record(client, auth, referral).json()
    fixed = {**visit(weight_kg=82.5), "reason": "Paino kirjattu väärin (92,5 → 82,5)."}
    response = client.post(
        f"/api/v1/visits/{original['id']}/corrections", json=fixed, headers=auth(COUNSELLOR)
    )
    assert response.status_code == 201, response.text
    correction = response.json()
    assert (correction["supersedes_id"], correction["weight_kg"]) == (original["id"], 82.5)
    tab = client.get(
        f"/api/v1/referrals/{referral['id']}/visits", headers=auth("doctor.laihia")
    ).json()["items"]
    by_id = {v["id"]: v for v in tab}
    assert by_id[original["id"]]["corrected"] is True
    assert by_id[original["id"]]["weight_kg"] == 92.5
    assert by_id[correction["id"]]["correction_reason"].startswith("Paino")
    again = client.post(
        f"/api/v1/visits/{original['id']}/corrections", json=fixed, headers=auth(COUNSELLOR)
    )
    assert again.json()["code"] == "visit_already_corrected"
    assert client.post(f"/api/v1/visits/{correction['id']}/corrections", json=fixed,
                       headers=auth("doctor.laihia")).status_code == 403  # fmt: skip


def test_plan_versions_are_kept_and_read_back_exactly(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}/plan"
    first = client.put(url, json=PLAN, headers=auth(COUNSELLOR))
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.headers["etag"]) == (1, '"1"')
    changed = {**PLAN, "support_agreed": "Ryhmään mukaan.", "change_note": "Lisätty ryhmä."}
    assert client.put(url, json=changed, headers=auth("counsellor2.laihia")).status_code == 428
    stale = client.put(url, json=changed, headers={**auth("counsellor2.laihia"), "If-Match": '"7"'})
    assert stale.status_code == 412
    second = client.put(
        url, json=changed, headers={**auth("counsellor2.laihia"), "If-Match": '"1"'}
    )
    assert (second.status_code, second.json()["version"]) == (200, 2)
    assert (
        client.get(url, params={"version": 1}, headers=auth("doctor.laihia")).json() == first.json()
    )
    latest = client.get(url, headers=auth("nurse.laihia")).json()
    assert (latest["version"], latest["author_subject"], latest["change_note"]) == (
        2, "counsellor2.laihia", "Lisätty ryhmä.")  # fmt: skip
    assert [goal["what"] for goal in latest["goals"]] == [goal["what"] for goal in PLAN["goals"]]
    missing = client.get(url, params={"version": 9}, headers=auth("doctor.laihia"))
    assert missing.json()["code"] == "plan_version_not_found"


def test_a_plan_not_agreed_with_the_patient_is_refused(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}/plan"
    response = client.put(
        url, json={**PLAN, "agreed_with_patient": False}, headers=auth(COUNSELLOR)
    )
    assert response.status_code == 422


def test_the_outcome_summary_from_real_visits(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    record(client, auth, referral)
    record(client, auth, referral, visited_on=str(TODAY - timedelta(days=10)), mvpa_days_per_week=4,
           mvpa_minutes_per_day=30, strength_days_per_week=1)  # fmt: skip
    last = record(client, auth, referral, visited_on=str(TODAY), mvpa_days_per_week=5,
                  mvpa_minutes_per_day=30, strength_days_per_week=3).json()  # fmt: skip
    # A corrected visit counts only in its corrected form.
    fixed = {**visit(visited_on=str(TODAY), mvpa_days_per_week=5, mvpa_minutes_per_day=32,
                     strength_days_per_week=2), "reason": "Minuutit tarkennettu."}  # fmt: skip
    client.post(f"/api/v1/visits/{last['id']}/corrections", json=fixed, headers=auth(COUNSELLOR))
    goals = [{**PLAN["goals"][0], "achieved": True}, PLAN["goals"][1]]
    client.put(
        f"/api/v1/referrals/{referral['id']}/plan",
        json={**PLAN, "goals": goals},
        headers=auth(COUNSELLOR),
    )
    outcome = client.get(
        f"/api/v1/referrals/{referral['id']}/outcome", headers=auth("doctor.laihia")
    ).json()
    assert outcome["visits_held"] == 3
    assert outcome["first_assessment"]["minutes_per_week"] == 40
    assert outcome["last_assessment"]["minutes_per_week"] == 160
    assert (outcome["minutes_per_week_change"], outcome["strength_days_change"]) == (120, 2)
    assert (outcome["goals"], outcome["goals_met"]) == (2, 1)
    current = client.get(f"/api/v1/referrals/{referral['id']}", headers=auth(COUNSELLOR)).json()
    body = {
        "reason_code": "goals_met",
        "reason_text": "Tavoite saavutettu.",
        "outcome_summary": "Hyvä.",
    }
    assert act(client, auth, COUNSELLOR, current, "complete", body).status_code == 200
    published = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.aggregate_id == uuid.UUID(referral["id"]),
            OutboxEvent.event_type == "referral.outcome",
        )
    ).one()
    assert published.payload == outcome


def test_visits_only_while_counselling_is_open(
    client: TestClient, auth: Auth, session: Session
) -> None:
    sent = send_referral(client, auth, demo_patient(session, "399", 1).id)
    response = record(client, auth, sent)
    assert response.json()["code"] == "referral_not_in_counselling"


def test_the_follow_up_schedule_becomes_bookings(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    counsellor = session.scalars(select(User.id).where(User.username == COUNSELLOR)).one()
    rules = [
        {"weekday": weekday, "start_time": "09:00", "end_time": "10:00", "location": "Halli",
         "modes": ["in_person"], "visit_types": ["follow_up"], "languages": ["fi"],
         "valid_from": str(TODAY)}
        for weekday in range(5)
    ]  # fmt: skip
    client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": rules},
        headers=auth(COUNSELLOR),
    )
    plan = {**PLAN, "follow_up_months": [1, 3, 6]}
    client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan, headers=auth(COUNSELLOR))
    booked = client.post(
        f"/api/v1/referrals/{referral['id']}/plan/follow-ups", headers=auth(COUNSELLOR)
    )
    assert booked.status_code == 200, booked.text
    results = booked.json()
    assert [r["months"] for r in results] == [1, 3, 6]
    # Slots exist for 16 weeks: the 1- and 3-month follow-ups are booked, the 6-month one not yet.
    assert [r["appointment_id"] is not None for r in results] == [True, True, False]
    first = date.fromisoformat(results[0]["start_at"][:10])
    assert add_months(TODAY, 1) <= first <= add_months(TODAY, 1) + timedelta(days=14)
    listed = client.get(
        "/api/v1/appointments",
        params={"referral_id": referral["id"]},
        headers=auth("doctor.laihia"),
    )
    assert len(listed.json()["items"]) == 2
    assert client.post(f"/api/v1/referrals/{referral['id']}/plan/follow-ups",
                       headers=auth("doctor.laihia")).status_code == 403  # fmt: skip


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [(date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
     (date(2026, 11, 15), 3, date(2027, 2, 15)), (date(2026, 12, 1), 12, date(2027, 12, 1))],
)  # fmt: skip
def test_adding_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_a_visit_tied_to_its_appointment_marks_it_attended(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    counsellor = session.scalars(select(User.id).where(User.username == COUNSELLOR)).one()
    rules = [{"weekday": weekday, "start_time": "09:00", "end_time": "10:00", "location": "Halli",
              "modes": ["in_person"], "visit_types": ["first_visit"], "languages": ["fi"],
              "valid_from": str(TODAY)} for weekday in range(7)]  # fmt: skip
    client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": rules},
        headers=auth(COUNSELLOR),
    )
    slot = client.get(
        "/api/v1/slots", params={"service_id": referral["service_id"]}, headers=auth(COUNSELLOR)
    ).json()["items"][0]
    booking = {"slot_id": slot["id"], "referral_id": referral["id"]}
    appointment = client.post("/api/v1/appointments", json=booking, headers=auth(COUNSELLOR)).json()
    # Recorded before it began: refused; once it has begun, the visit marks it attended.
    early = record(client, auth, referral, visited_on=str(TODAY), appointment_id=appointment["id"])
    assert early.json()["code"] == "appointment_not_started"
    began = datetime.now(UTC) - timedelta(minutes=30)
    session.execute(
        update(Appointment)
        .where(Appointment.id == uuid.UUID(appointment["id"]))
        .values(start_at=began, end_at=began + timedelta(hours=1))
    )
    session.flush()
    recorded = record(
        client, auth, referral, visited_on=str(TODAY), appointment_id=appointment["id"]
    )
    assert recorded.status_code == 201, recorded.text
    marked = client.get(
        f"/api/v1/appointments/{appointment['id']}", headers=auth("doctor.laihia")
    ).json()
    assert marked["status"] == "attended"
    other = send_referral(client, auth, demo_patient(session, "399", 2).id)
    other = act(client, auth, COUNSELLOR, other, "accept").json()
    wrong = record(client, auth, other, visited_on=str(TODAY), appointment_id=appointment["id"])
    assert wrong.json()["code"] == "appointment_of_another_referral"


def test_asking_twice_books_the_follow_ups_once(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    counsellor = session.scalars(select(User.id).where(User.username == COUNSELLOR)).one()
    rules = [{"weekday": weekday, "start_time": "09:00", "end_time": "12:00", "location": "Halli",
              "modes": ["in_person"], "visit_types": ["follow_up"], "languages": ["fi"],
              "valid_from": str(TODAY)} for weekday in range(5)]  # fmt: skip
    client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": rules},
        headers=auth(COUNSELLOR),
    )
    plan = {**PLAN, "follow_up_months": [1, 2]}
    client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan, headers=auth(COUNSELLOR))
    url = f"/api/v1/referrals/{referral['id']}/plan/follow-ups"
    first = client.post(url, headers=auth(COUNSELLOR)).json()
    second = client.post(url, headers=auth(COUNSELLOR)).json()
    assert [r["appointment_id"] for r in second] == [r["appointment_id"] for r in first]
    listed = client.get(
        "/api/v1/appointments", params={"referral_id": referral["id"]}, headers=auth(COUNSELLOR)
    )
    assert len(listed.json()["items"]) == 2


def test_corrections_are_in_the_outsider_matrix_too(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    original = record(client, auth, referral).json()
    fixed = {**visit(), "reason": "Korjaus."}
    for outsider in (
        "counsellor1.kaskinen",
        "doctor.isokyro",
        "statistician.region",
        "patient-system",
    ):
        response = client.post(
            f"/api/v1/visits/{original['id']}/corrections", json=fixed, headers=auth(outsider)
        )
        assert response.status_code == 404
