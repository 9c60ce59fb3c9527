"""The plan page tells where the patient stands against the national activity recommendation,
in the reader's language, and the form saves the level as the API does."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import PlanVersion
from tests.fixtures.counselling_pages import (
    COUNSELLOR,
    Auth,
    accepted_referral,
    ok,
    plan_fields,
    plan_json,
    referral_path,
    signed_in,
)
from tests.fixtures.pages import form_for


def test_the_plan_page_shows_the_standing_in_the_readers_language(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    level = {"moderate_minutes_per_week": 90, "vigorous_minutes_per_week": 30,
             "strength_days_per_week": 2,
             "sitting_break_goal": "Tauko puolen tunnin välein"}  # fmt: skip
    ok(client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan_json(**level),
                  headers=auth(COUNSELLOR)))  # fmt: skip
    signed_in(pages, language="en")
    page = pages.get(referral_path(referral, "plan"))
    assert page.status_code == 200
    assert "Meets the aerobic activity recommendation (150 of 150 minutes a week)." in page.text
    assert "Meets the muscle-strengthening recommendation (2 of 2 days a week)." in page.text
    assert "Tauko puolen tunnin välein" in page.text


def test_the_form_saves_the_level_and_the_page_says_what_is_short(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    signed_in(pages)
    form = form_for(
        pages.get(referral_path(referral, "plan/edit")).text, referral_path(referral, "plan")
    )
    typed = plan_fields(moderate_minutes_per_week="40", vigorous_minutes_per_week="20",
                        strength_days_per_week="0", sitting_hours_per_day="8,5")  # fmt: skip
    saved = pages.post(referral_path(referral, "plan"), data={**form, **typed})
    assert saved.status_code == 303, saved.text
    plan = session.scalars(
        select(PlanVersion).where(PlanVersion.referral_id == uuid.UUID(referral["id"]))
    ).one()
    assert (plan.moderate_minutes_per_week, plan.vigorous_minutes_per_week) == (40, 20)
    assert (plan.strength_days_per_week, plan.sitting_hours_per_day) == (0, 8.5)
    page = pages.get(referral_path(referral, "plan")).text
    assert "Kestävyysliikunnan suosituksesta puuttuu 70 minuuttia viikossa" in page
    assert "Lihaskuntoharjoittelun suosituksesta puuttuu 2 päivää viikossa" in page
    edit = form_for(
        pages.get(referral_path(referral, "plan/edit")).text, referral_path(referral, "plan")
    )
    assert (edit["moderate_minutes_per_week"], edit["sitting_hours_per_day"]) == ("40", "8.5")


def test_the_printed_plan_tells_the_patient_in_the_patients_language(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session, language="sv")
    level = {"vigorous_minutes_per_week": 75, "strength_days_per_week": 1}
    ok(client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan_json(**level),
                  headers=auth(COUNSELLOR)))  # fmt: skip
    signed_in(pages)
    printed = pages.get(referral_path(referral, "plan/print"))
    assert printed.status_code == 200
    assert "Min motion nu och rekommendationen" in printed.text
    assert "Uppfyller rekommendationen för konditionsmotion (150 av 150 minuter" in printed.text


def test_the_versions_side_by_side_mark_a_changed_level(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    path = f"/api/v1/referrals/{referral['id']}/plan"
    first = client.put(path, json=plan_json(moderate_minutes_per_week=60), headers=auth(COUNSELLOR))
    ok(first)
    headers = {**auth(COUNSELLOR), "If-Match": first.headers["ETag"]}
    later = plan_json(moderate_minutes_per_week=120, strength_days_per_week=2)
    ok(client.put(path, json=later, headers=headers))
    signed_in(pages, language="en")
    page = pages.get(referral_path(referral, "plan/versions?left=1&right=2")).text
    rows = page.split("<tr")
    [level] = [row for row in rows if "Weekly activity level" in row]
    assert "versions-table__changed" in level
    assert "Moderate minutes a week: 60" in level
    assert "Moderate minutes a week: 120" in level
    assert "Days of muscle strengthening a week: 2" in level
    # A version compared with itself changes nothing.
    same = pages.get(referral_path(referral, "plan/versions?left=2&right=2")).text
    assert "versions-table__changed" not in same
