"""What the counselling tab refuses, and why it says so: records dated outside the referral's
time, visits for appointments that were not held, corrections that would silently erase data,
activity figures no day or week can hold; and a correction's place among the visits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.statistics.models import ReferralFact
from tests.counselling.conftest import SENT_DAYS_AGO
from tests.counselling.test_tab import COUNSELLOR, PLAN, TODAY, record, visit
from tests.fixtures.facts import facts_follow
from tests.fixtures.journeys import appointment_begun

Auth = Callable[[str], dict[str, str]]


def correct(client: TestClient, auth: Auth, visit_id: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/visits/{visit_id}/corrections", json=body, headers=auth(COUNSELLOR)
    )


@pytest.mark.parametrize("days_ago", [SENT_DAYS_AGO + 1, 365 * 3])
def test_a_visit_is_dated_from_the_referrals_sending_day(
    client: TestClient, auth: Auth, referral: dict[str, Any], days_ago: int
) -> None:
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/visits",
        json=visit(visited_on=str(TODAY - timedelta(days=days_ago))),
        headers={**auth(COUNSELLOR), "Accept-Language": "en"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    sent_on = str(TODAY - timedelta(days=SENT_DAYS_AGO))
    assert (problem["code"], problem["earliest"], problem["latest"]) == (
        "dated_outside_referral", sent_on, str(TODAY))  # fmt: skip
    assert f"the referral was sent ({sent_on})" in problem["detail"]
    on_the_day = record(client, auth, referral, visited_on=sent_on)
    assert on_the_day.status_code == 201, on_the_day.text
    # A correction may not move it out either, nor may a plan be agreed before the referral.
    moved = visit(visited_on=str(TODAY - timedelta(days=days_ago)))
    assert (
        correct(client, auth, on_the_day.json()["id"], {**moved, "reason": "x"}).json()["code"]
        == "dated_outside_referral"
    )
    plan = client.put(
        f"/api/v1/referrals/{referral['id']}/plan",
        json={**PLAN, "agreed_on": str(TODAY - timedelta(days=days_ago))},
        headers=auth(COUNSELLOR),
    )
    assert plan.json()["code"] == "dated_outside_referral"


def test_a_date_decades_back_is_out_of_any_range(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    response = record(client, auth, referral, visited_on="1952-10-13")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("body.visited_on", "greater_than_equal")


def began(client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]) -> str:
    """An appointment of the referral that began an hour ago; its id."""
    appointment_id: str = appointment_begun(client, auth, session, referral)["id"]
    return appointment_id


@pytest.mark.parametrize("outcome", ["no-show", "cancel"])
def test_no_visit_for_an_appointment_that_was_not_held(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any], outcome: str
) -> None:
    appointment_id = began(client, auth, session, referral)
    body = {"cancelled_by": "patient", "reason": "Sairastui."} if outcome == "cancel" else None
    marked = client.post(
        f"/api/v1/appointments/{appointment_id}/{outcome}", json=body, headers=auth(COUNSELLOR)
    )
    assert marked.status_code == 200, marked.text
    response = record(client, auth, referral, visited_on=str(TODAY), appointment_id=appointment_id)
    assert response.status_code == 409
    assert response.json()["code"] == "appointment_not_attended"
    assert response.json()["appointment_status"] == marked.json()["status"]


def test_an_appointment_has_one_visit(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    appointment_id = began(client, auth, session, referral)
    first = record(client, auth, referral, visited_on=str(TODAY), appointment_id=appointment_id)
    assert first.status_code == 201, first.text
    again = record(client, auth, referral, visited_on=str(TODAY), appointment_id=appointment_id)
    assert (again.status_code, again.json()["code"]) == (409, "appointment_has_visit")
    # Its correction stays tied to the appointment, and is no second visit of it.
    fixed = correct(client, auth, first.json()["id"], {**visit(visited_on=str(TODAY)),
                                                       "reason": "Kesto."})  # fmt: skip
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["appointment_id"] == appointment_id


def test_a_correction_takes_its_originals_place_among_the_days_visits(
    client: TestClient, auth: Auth, session: Session, referral: dict[str, Any]
) -> None:
    day = str(TODAY - timedelta(days=5))
    morning = record(client, auth, referral, visited_on=day).json()  # 2 x 20 = 40 min a week
    record(client, auth, referral, visited_on=day, mvpa_days_per_week=5,
           mvpa_minutes_per_day=30)  # fmt: skip
    fixed = correct(client, auth, morning["id"], {**visit(visited_on=day, duration_minutes=45),
                                                  "reason": "Kesto väärin."})  # fmt: skip
    assert fixed.status_code == 201, fixed.text
    outcome = client.get(
        f"/api/v1/referrals/{referral['id']}/outcome", headers=auth("doctor.laihia")
    ).json()
    assert outcome["first_assessment"]["minutes_per_week"] == 40
    assert outcome["last_assessment"]["minutes_per_week"] == 150
    assert outcome["minutes_per_week_change"] == 110
    facts_follow(session)
    fact = session.get_one(ReferralFact, uuid.UUID(referral["id"]), populate_existing=True)
    assert fact.minutes_change == 110
    tab = client.get(f"/api/v1/referrals/{referral['id']}/visits", headers=auth(COUNSELLOR))
    standing = [v["id"] for v in tab.json()["items"] if not v["corrected"]]
    assert standing[0] == fixed.json()["id"]


def test_a_correction_restates_the_whole_record_or_says_what_it_empties(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    original = record(client, auth, referral).json()
    partial = {key: value for key, value in visit().items()
               if key not in ("weight_kg", "note", "fitness_test")}  # fmt: skip
    refused = client.post(
        f"/api/v1/visits/{original['id']}/corrections",
        json={**partial, "reason": "Paino pois."},
        headers={**auth(COUNSELLOR), "Accept-Language": "sv"},
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "correction_drops_fields"
    assert problem["fields"] == ["weight_kg", "fitness_test", "note"]
    assert "weight_kg, fitness_test, note" in problem["detail"]
    assert problem["detail"].startswith("En rättelse är hela anteckningen")
    # Emptied on purpose: explicit nulls.
    emptied = {**partial, "weight_kg": None, "note": None, "fitness_test": None, "reason": "x"}
    accepted = correct(client, auth, original["id"], emptied)
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["weight_kg"], accepted.json()["waist_cm"]) == (None, 104)


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"mvpa_days_per_week": 7, "mvpa_minutes_per_day": 1000, "sitting_hours_per_day": 24},
         "day_overfull", "body.sitting_hours_per_day"),
        ({"mvpa_minutes_per_day": 300, "sitting_hours_per_day": 20},
         "day_overfull", "body.sitting_hours_per_day"),
        ({"mvpa_days_per_week": 0, "mvpa_minutes_per_day": 30},
         "activity_days_and_minutes_disagree", "body.mvpa_minutes_per_day"),
        ({"mvpa_days_per_week": 3, "mvpa_minutes_per_day": 0},
         "activity_days_and_minutes_disagree", "body.mvpa_minutes_per_day"),
    ],
)  # fmt: skip
def test_activity_figures_fit_in_a_day(
    client: TestClient,
    auth: Auth,
    referral: dict[str, Any],
    change: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = record(client, auth, referral, **change)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]


def test_a_full_day_still_fits(client: TestClient, auth: Auth, referral: dict[str, Any]) -> None:
    full = {"mvpa_days_per_week": 7, "mvpa_minutes_per_day": 240, "sitting_hours_per_day": 20}
    assert record(client, auth, referral, **full).status_code == 201
    resting = {"mvpa_days_per_week": 0, "mvpa_minutes_per_day": 0}
    assert record(client, auth, referral, **resting).status_code == 201


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"activities": [{"kind": "kävely", "frequency_per_week": 21, "minutes": 600,
                          "intensity": "light"}]}, "sessions_beyond_a_day"),
        ({"activities": [{"kind": f"laji {n}", "frequency_per_week": 7, "minutes": 600,
                          "intensity": "light"} for n in range(3)]}, "plan_beyond_a_week"),
        ({"goals": [{**PLAN["goals"][0], "target": 20000}]}, "goal_beyond_a_week"),
        ({"goals": [{**PLAN["goals"][1], "target": 8}]}, "goal_beyond_a_week"),
    ],
)  # fmt: skip
def test_a_plan_fits_in_a_week(
    client: TestClient, auth: Auth, referral: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    response = client.put(
        f"/api/v1/referrals/{referral['id']}/plan",
        json={**PLAN, **change},
        headers=auth(COUNSELLOR),
    )
    assert response.status_code == 422, response.text
    assert [e["code"] for e in response.json()["errors"]] == [code]


@pytest.mark.parametrize(
    ("language", "change", "field", "message"),
    [
        ("en", {"systolic_mmhg": 80, "diastolic_mmhg": 90}, "body.systolic_mmhg",
         "The systolic pressure must be higher than the diastolic pressure."),
        ("fi", {"systolic_mmhg": 80, "diastolic_mmhg": 90}, "body.systolic_mmhg",
         "Yläpaineen pitää olla korkeampi kuin alapaineen."),
        ("sv", {"visited_on": str(TODAY + timedelta(days=1))}, "body.visited_on",
         "Ett besök kan inte dateras i framtiden."),
        ("en", {"contact_type": "telepathy"}, "body.contact_type",
         "The value must be one of: in_person, phone, video, group, home_visit."),
        ("fi", {"mvpa_days_per_week": 8}, "body.mvpa_days_per_week",
         "Arvo saa olla enintään 7."),
        ("sv", {"duration_minutes": 1}, "body.duration_minutes", "Värdet ska vara minst 5."),
        ("en", {"note": "x" * 4001}, "body.note",
         "The text can have at most 4000 characters."),
    ],
)  # fmt: skip
def test_errors_say_which_rule_failed(
    client: TestClient,
    auth: Auth,
    referral: dict[str, Any],
    language: str,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/visits",
        json=visit(**change),
        headers={**auth(COUNSELLOR), "Accept-Language": language},
    )
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [(field, message)]
