"""The plan records the weekly level in the recommendation's terms and tells, through the API,
where the patient stands against it."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.counselling.test_tab import COUNSELLOR, PLAN, Auth

LEVEL = {
    "moderate_minutes_per_week": 60,
    "vigorous_minutes_per_week": 20,
    "strength_days_per_week": 1,
    "sitting_hours_per_day": 9.5,
    "sitting_break_goal": "Seisomaan puolen tunnin välein",
}


def test_the_plan_reads_back_its_level_and_standing(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}/plan"
    saved = client.put(url, json={**PLAN, **LEVEL}, headers=auth(COUNSELLOR))
    assert saved.status_code == 200, saved.text
    read = client.get(url, headers={**auth("doctor.laihia"), "Accept-Language": "en"}).json()
    assert {name: read[name] for name in LEVEL} == LEVEL
    standing = read["standing"]
    assert standing["moderate_equivalent_minutes"] == 100
    assert (standing["aerobic_recommendation_met"], standing["aerobic_minutes_short"]) == (
        False,
        50,
    )
    assert (standing["strength_recommendation_met"], standing["strength_days_short"]) == (False, 1)
    assert standing["summary"][0].startswith("50 minutes a week short")
    finnish = client.get(url, headers={**auth("doctor.laihia"), "Accept-Language": "fi"}).json()
    assert finnish["standing"]["summary"][0].startswith("Kestävyysliikunnan suosituksesta")


def test_a_plan_without_a_level_still_saves_and_says_nothing_is_recorded(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}/plan"
    saved = client.put(url, json=PLAN, headers={**auth(COUNSELLOR), "Accept-Language": "en"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["moderate_minutes_per_week"] is None
    assert body["standing"]["aerobic_recommendation_met"] is None
    assert body["standing"]["summary"] == [
        "Weekly aerobic activity not recorded.",
        "Days of muscle strengthening not recorded.",
    ]


def test_a_level_beyond_a_week_is_refused(
    client: TestClient, auth: Auth, referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}/plan"
    level = {"moderate_minutes_per_week": 6000, "vigorous_minutes_per_week": 5000}
    refused = client.put(url, json={**PLAN, **level}, headers=auth(COUNSELLOR))
    assert refused.status_code == 422
    assert "activity_level_beyond_a_week" in refused.text
    too_many_days = client.put(
        url, json={**PLAN, "strength_days_per_week": 8}, headers=auth(COUNSELLOR)
    )
    assert too_many_days.status_code == 422
