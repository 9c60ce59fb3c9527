"""A referral's page as the clinician who sent it reads it: read-only but for what the API lets
them do (cancel, book), its appointments with their confirmations, and, once the counselling is
completed, what came of it as `GET /referrals/{id}/outcome` gives it (the closed loop)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.fixtures.calendar_scene import audit_mark, audited
from tests.fixtures.factories import Auth, demo_patient, send_referral
from tests.fixtures.journeys import appointment_begun, completed_referral, visit_body
from tests.fixtures.pages import follow, form_for, forms, sign_in

REFERRER = "doctor.laihia"
COUNSELLOR = "counsellor1.laihia"
COUNSELLORS_ACTIONS = ("accept", "reject", "return", "start")


def actions_offered(page: str, referral: dict[str, Any]) -> set[str]:
    prefix = f"/referrals/{referral['id']}/actions/"
    return {form["_action"].removeprefix(prefix) for form in forms(page)
            if form["_action"].startswith(prefix)}  # fmt: skip


def test_the_referrer_reads_a_sent_referral_without_the_counsellors_actions(
    pages: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(pages, auth, demo_patient(session, "399").id, sender=REFERRER)
    sign_in(pages, REFERRER)
    shown = pages.get(f"/referrals/{referral['id']}")
    assert shown.status_code == 200
    # The API lets the referrer cancel, nothing else of the life cycle.
    assert actions_offered(shown.text, referral) == {"cancel"}
    assert set(COUNSELLORS_ACTIONS).isdisjoint(
        pages.get(f"/api/v1/referrals/{referral['id']}", headers=auth(REFERRER)).json()[
            "allowed_actions"
        ]
    )
    assert f'href="/referrals/{referral["id"]}/book"' in shown.text
    # Their reading does not receive it: that is the service's.
    read = pages.get(f"/api/v1/referrals/{referral['id']}", headers=auth(REFERRER)).json()
    assert read["status"] == "sent"
    assert "Liikuntaneuvonnan tulokset" not in shown.text


def test_the_referrer_cancels_from_the_page_as_the_api_lets_them(
    pages: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(pages, auth, demo_patient(session, "399").id, sender=REFERRER)
    sign_in(pages, REFERRER)
    path = f"/referrals/{referral['id']}"
    fields = form_for(pages.get(path).text, f"{path}/actions/cancel")
    typed = {**fields, "reason_code": "patient_declined", "reason_text": "Ei halua nyt.",
             "cancelled_by": "patient"}  # fmt: skip
    done = pages.post(f"{path}/actions/cancel", data=typed)
    assert done.status_code == 303
    read = pages.get(f"/api/v1{path}", headers=auth(REFERRER)).json()
    assert read["status"] == "cancelled"
    assert actions_offered(follow(pages, done).text, referral) == set()


def test_a_booked_appointment_is_listed_with_its_confirmation_and_booking_is_not_offered_again(
    pages: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(pages, auth, demo_patient(session, "399").id, sender=REFERRER)
    accepted = pages.post(
        f"/api/v1/referrals/{referral['id']}/accept",
        headers={**auth(COUNSELLOR), "If-Match": f'"{referral["version"]}"'},
    )
    assert accepted.status_code == 200
    appointment = appointment_begun(pages, auth, session, accepted.json())
    sign_in(pages, REFERRER)
    shown = pages.get(f"/referrals/{referral['id']}").text
    assert f'href="/appointments/{appointment["id"]}"' in shown
    assert f'href="/appointments/{appointment["id"]}/confirmation"' in shown
    assert f'href="/referrals/{referral["id"]}/book"' not in shown


def test_a_completed_referral_shows_the_referrer_what_came_of_it_as_the_api_does(
    pages: TestClient, auth: Auth, session: Session
) -> None:
    referral = completed_referral(pages, auth, session)
    assert referral["status"] == "completed"
    names = {referral["id"]: "referral"}
    mark = audit_mark(session)
    outcome = pages.get(f"/api/v1/referrals/{referral['id']}/outcome", headers=auth(REFERRER))
    assert outcome.status_code == 200
    api_entries = audited(session, mark, names)
    assert api_entries == [("read", "Outcome", "success", "referral")]

    sign_in(pages, REFERRER)
    mark = audit_mark(session)
    shown = pages.get(f"/referrals/{referral['id']}")
    assert shown.status_code == 200
    assert [e for e in audited(session, mark, names) if e[1] == "Outcome"] == api_entries
    figures = outcome.json()
    text = shown.text
    assert '<h2 id="outcome-heading">Liikuntaneuvonnan tulokset</h2>' in text
    assert f"Toteutuneita käyntejä: {figures['visits_held']}" in text
    assert f"Suunnitelman tavoitteista saavutettu {figures['goals_met']}/{figures['goals']}" in text
    minutes = visit_body()["mvpa_days_per_week"] * visit_body()["mvpa_minutes_per_day"]
    assert figures["first_assessment"]["minutes_per_week"] == minutes
    assert f"<td>{minutes}</td>" in text
    assert referral["outcome_summary"] in text
    assert actions_offered(text, referral) == set()


def test_the_outcome_is_shown_in_swedish(pages: TestClient, auth: Auth, session: Session) -> None:
    referral = completed_referral(pages, auth, session)
    sign_in(pages, REFERRER)
    pages.headers["Accept-Language"] = "sv"
    text = pages.get(f"/referrals/{referral['id']}").text
    assert "Resultatet av motionsrådgivningen" in text
