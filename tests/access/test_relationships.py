"""Every route that addresses one record, against every relationship a caller can have to it.

The scene is one referral from Laihia's health station to Laihia's counselling service, with
an appointment, a visit and a plan. Each column is a caller: the referrer, a clinician of the
same unit and of another unit, the counsellor who holds the calendar, a colleague in the same
service, a counsellor of another municipality, counsellors whose grant has expired or been
revoked, and the roles that never have a care relationship. A cell says what that caller gets:
`OK` (past the access rules: the request may still fail on the record's state), `NO` (sees the
record but may not take the action: 403) or, for everyone not listed, 404, as if the record did
not exist. Each caller's request runs in a savepoint that is rolled back, so all of them meet
the same scene. A route that addresses a record and is missing here fails the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.grants.models import AccessGrant
from app.access.models import User
from app.kit.clock import today_in_helsinki, utcnow
from app.scheduling.models import Appointment
from tests.access.test_matrix import ACCESS, RECORD
from tests.fixtures.factories import act, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]
TODAY = today_in_helsinki()

REFERRER, SAME_UNIT, OTHER_UNIT = "doctor.laihia", "nurse.laihia", "doctor.isokyro"
HOLDER, COLLEAGUE, OTHER_MUNICIPALITY = (
    "counsellor1.laihia", "counsellor2.laihia", "counsellor1.isokyro",
)  # fmt: skip
EXPIRED, REVOKED = "counsellor3.laihia", "counsellor4.laihia"
NO_RELATIONSHIP = ("admin.laihia", "admin.region", "auditor.region", "statistician.region",
                   "steward.region", "patient-system")  # fmt: skip
CALLERS = (REFERRER, SAME_UNIT, OTHER_UNIT, HOLDER, COLLEAGUE, OTHER_MUNICIPALITY, EXPIRED,
           REVOKED, *NO_RELATIONSHIP)  # fmt: skip

OK, NO = "ok", "forbidden"
REFERRER_SIDE = {REFERRER: OK, SAME_UNIT: OK}
SERVICE = {HOLDER: OK, COLLEAGUE: OK}
READERS = {**REFERRER_SIDE, **SERVICE}
COUNSELLORS_ACT = {REFERRER: NO, SAME_UNIT: NO, **SERVICE}

REASON = {"reason_code": "other", "reason_text": "Potilaan toive."}
VISIT = {"visited_on": str(TODAY), "contact_type": "phone", "duration_minutes": 30,
         "mvpa_days_per_week": 3, "mvpa_minutes_per_day": 30, "strength_days_per_week": 1,
         "sitting_hours_per_day": 8, "stage_of_change": "action"}  # fmt: skip
PLAN = {"goals": [{"what": "Kävely", "measure": "minutes_per_week", "target": 150,
                   "target_date": str(TODAY + timedelta(days=90))}],
        "activities": [{"kind": "kävely", "frequency_per_week": 5, "minutes": 30,
                        "intensity": "moderate"}],
        "follow_up_months": [1], "agreed_with_patient": True, "agreed_on": str(TODAY),
        "agreed_how": "phone"}  # fmt: skip
GUARDIANS = {"guardians": [{"name": "Maria Virtanen", "phone": "+358401110001"}]}
CONSENT = {"scope": "research", "study": "PSHVA-2026-7", "decision": "given",
           "decided_on": str(TODAY), "method": "written"}  # fmt: skip

# (method, route) → (body, who gets what); everyone else gets 404.
RELATIONSHIPS: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, str]]] = {
    ("GET", "/api/v1/referrals/{referral_id}"): (None, READERS),
    ("GET", "/api/v1/referrals/{referral_id}/events"): (None, READERS),
    ("POST", "/api/v1/referrals/{referral_id}/accept"): ({}, COUNSELLORS_ACT),
    ("POST", "/api/v1/referrals/{referral_id}/reject"): (
        {**REASON, "reason_code": "not_eligible"}, COUNSELLORS_ACT),
    ("POST", "/api/v1/referrals/{referral_id}/return"): (REASON, COUNSELLORS_ACT),
    ("POST", "/api/v1/referrals/{referral_id}/start"): ({}, COUNSELLORS_ACT),
    ("POST", "/api/v1/referrals/{referral_id}/complete"): (
        {**REASON, "reason_code": "goals_met", "outcome_summary": "Tavoite saavutettu."},
        COUNSELLORS_ACT),
    ("POST", "/api/v1/referrals/{referral_id}/cancel"): (
        {**REASON, "cancelled_by": "patient"}, READERS),
    ("POST", "/api/v1/referrals/{referral_id}/book-by-service"): (
        {}, {**REFERRER_SIDE, HOLDER: NO, COLLEAGUE: NO}),
    ("GET", "/api/v1/counsellors/{counsellor_id}/availability"): (None, SERVICE),
    ("PUT", "/api/v1/counsellors/{counsellor_id}/availability"): (
        {"rules": []}, {HOLDER: OK, COLLEAGUE: NO}),
    ("GET", "/api/v1/appointments/{appointment_id}"): (None, READERS),
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): (
        {"cancelled_by": "provider", "reason": "Sairastuminen."}, READERS),
    ("POST", "/api/v1/appointments/{appointment_id}/reschedule"): (
        {"slot_id": "{other_slot_id}"}, READERS),
    ("POST", "/api/v1/appointments/{appointment_id}/attended"): (None, COUNSELLORS_ACT),
    ("POST", "/api/v1/appointments/{appointment_id}/no-show"): (None, COUNSELLORS_ACT),
    ("POST", "/api/v1/counsellors/{counsellor_id}/calendar-token"): (None, {HOLDER: OK}),
    ("POST", "/api/v1/counsellors/{counsellor_id}/calendar-token/revoke"): (
        None, {HOLDER: OK}),
    ("POST", "/api/v1/referrals/{referral_id}/visits"): (VISIT, COUNSELLORS_ACT),
    ("GET", "/api/v1/referrals/{referral_id}/visits"): (None, READERS),
    ("POST", "/api/v1/visits/{visit_id}/corrections"): (
        {**VISIT, "reason": "Väärä kesto."}, COUNSELLORS_ACT),
    ("PUT", "/api/v1/referrals/{referral_id}/plan"): (PLAN, COUNSELLORS_ACT),
    ("GET", "/api/v1/referrals/{referral_id}/plan"): (None, READERS),
    ("GET", "/api/v1/referrals/{referral_id}/outcome"): (None, READERS),
    ("POST", "/api/v1/referrals/{referral_id}/plan/follow-ups"): (None, COUNSELLORS_ACT),
    ("POST", "/api/v1/patients/{patient_id}/consents"): (CONSENT, READERS),
    ("GET", "/api/v1/patients/{patient_id}/consents"): (None, READERS),
    ("GET", "/api/v1/patients/{patient_id}/guardians"): (None, READERS),
    ("PUT", "/api/v1/patients/{patient_id}/guardians"): (GUARDIANS, READERS),
}  # fmt: skip
# The scene's patient is an adult: those who may record guardians pass the relationship check
# and are then told there is no minor to record them for.
PAST_THE_RELATIONSHIP = "not_a_minor"
# Read with the feed's own token, never with a bearer token: no caller has a relationship.
BY_FEED_TOKEN = {("GET", "/api/v1/counsellors/{counsellor_id}/calendar.ics")}


def test_every_record_route_is_in_the_table() -> None:
    record_routes = {route for route, rule in ACCESS.items() if rule == RECORD}
    assert record_routes - BY_FEED_TOKEN == set(RELATIONSHIPS)


def _counsellor_with_grant(session: Session, username: str, **grant: Any) -> None:
    colleague = session.scalars(select(User).where(User.username == COLLEAGUE)).one()
    user = User(
        username=username,
        display_name=username,
        organisation_id=colleague.organisation_id,
        roles=["counsellor"],
        profession="counsellor",
        service_id=colleague.service_id,
    )
    session.add(user)
    session.flush()
    session.add(
        AccessGrant(
            user_id=user.id,
            service_id=colleague.service_id,
            valid_from=date(2024, 1, 1),
            granted_by="admin.region",
            attested_by="admin.laihia",
            attested_at=utcnow(),
            **{"valid_until": date(2030, 12, 31), **grant},
        )
    )
    session.flush()


@pytest.fixture
def scene(client: TestClient, auth: Auth, session: Session) -> dict[str, str]:
    """The referral, accepted, booked, visited and planned, and the ids of its records."""
    _counsellor_with_grant(session, EXPIRED, valid_until=TODAY - timedelta(days=1))
    _counsellor_with_grant(session, REVOKED, revoked_at=utcnow(), revoked_by="admin.laihia")
    holder = session.scalars(select(User.id).where(User.username == HOLDER)).one()
    sent = send_referral(client, auth, demo_patient(session, "399").id)
    referral = act(client, auth, HOLDER, sent, "accept").json()
    rules = [{"weekday": weekday, "start_time": "09:00", "end_time": "11:00", "location": "Halli",
              "modes": ["in_person", "phone"], "visit_types": ["first_visit"],
              "languages": ["fi"], "valid_from": str(TODAY)} for weekday in range(7)]  # fmt: skip
    client.put(
        f"/api/v1/counsellors/{holder}/availability", json={"rules": rules}, headers=auth(HOLDER)
    )
    slots = client.get(
        "/api/v1/slots", params={"service_id": referral["service_id"]}, headers=auth(HOLDER)
    ).json()["items"]
    booking = {"slot_id": slots[0]["id"], "referral_id": referral["id"]}
    appointment = client.post("/api/v1/appointments", json=booking, headers=auth(HOLDER)).json()
    # Begun an hour ago, so that it can be marked.
    began = datetime.now(UTC) - timedelta(hours=1)
    session.execute(
        update(Appointment)
        .where(Appointment.id == uuid.UUID(appointment["id"]))
        .values(start_at=began, end_at=began + timedelta(minutes=30))
    )
    session.flush()
    url = f"/api/v1/referrals/{referral['id']}"
    visit = client.post(f"{url}/visits", json=VISIT, headers=auth(HOLDER)).json()
    client.put(f"{url}/plan", json=PLAN, headers=auth(HOLDER))
    return {
        "referral_id": referral["id"],
        "patient_id": referral["patient_id"],
        "counsellor_id": str(holder),
        "appointment_id": appointment["id"],
        "visit_id": visit["id"],
        "other_slot_id": slots[-1]["id"],
    }


@pytest.mark.parametrize(("method", "route"), sorted(RELATIONSHIPS))
def test_the_relationship_matrix(
    client: TestClient,
    auth: Auth,
    connection: Connection,
    scene: dict[str, str],
    method: str,
    route: str,
) -> None:
    body, cells = RELATIONSHIPS[(method, route)]
    if body is not None:
        body = {key: value.format(**scene) if isinstance(value, str) else value
                for key, value in body.items()}  # fmt: skip
    got = {}
    for caller in CALLERS:
        headers = {**auth(caller), "If-Match": '"999"'}
        savepoint = connection.begin_nested()
        response = client.request(method, route.format(**scene), json=body, headers=headers)
        savepoint.rollback()
        got[caller] = {403: NO, 404: "not_found"}.get(response.status_code, OK)
        refused_later = response.status_code == 422 and PAST_THE_RELATIONSHIP in response.text
        assert response.status_code != 500, (caller, response.text)
        assert response.status_code != 422 or refused_later, (caller, response.text)
    assert got == {caller: cells.get(caller, "not_found") for caller in CALLERS}


# Lists show a record to exactly those who may open it; roles without the list get 403.
WORKLISTS = {
    "/api/v1/referrals": "referral_id",
    "/api/v1/appointments": "appointment_id",
}
LISTERS = {REFERRER, SAME_UNIT, OTHER_UNIT, HOLDER, COLLEAGUE, OTHER_MUNICIPALITY}


@pytest.mark.parametrize("route", sorted(WORKLISTS))
def test_worklists_show_a_record_to_those_who_may_open_it(
    client: TestClient, auth: Auth, scene: dict[str, str], route: str
) -> None:
    key = WORKLISTS[route]
    cells = RELATIONSHIPS[("GET", f"{route}/{{{key}}}")][1]
    for caller in CALLERS:
        response = client.get(route, headers=auth(caller))
        if caller not in LISTERS:
            assert response.status_code == 403, (caller, response.text)
            continue
        page = response.json()["items"]
        assert (scene[key] in {row["id"] for row in page}) == (cells.get(caller) == OK), caller
