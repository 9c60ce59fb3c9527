"""A counsellor's whole day with one referral, in Chromium, with the keyboard alone, in Finnish
and in Swedish: signed in through the development issuer's page, the referral opened from the
worklist and accepted, its first visit booked, counselling started, two visits recorded and one
corrected, the activity plan agreed, its follow-ups booked, and the counselling completed with
its appointments still to come cancelled. axe-core checks every page on the way."""

from __future__ import annotations

from datetime import date, timedelta

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.keyboard import choose, follow, pick, tab_to, tick, type_date, type_in
from tests.fixtures.live import referral_in, token

COUNSELLOR = "counsellor2.laihia"


def open_calendar(base: str) -> None:
    """The counsellor's weekly hours, set through the API: every day 8 to 16."""
    users = httpx.get(f"{base}/dev/users").json()
    counsellor = next(user["id"] for user in users if user["username"] == COUNSELLOR)
    rules = [
        {"weekday": weekday, "start_time": "08:00", "end_time": "16:00",
         "location": "Laihian terveysasema", "modes": ["in_person", "phone"],
         "visit_types": ["first_visit", "follow_up"], "languages": ["fi", "sv"],
         "valid_from": str(date.today() - timedelta(days=1))}
        for weekday in range(7)
    ]  # fmt: skip
    answer = httpx.put(
        f"{base}/api/v1/counsellors/{counsellor}/availability",
        json={"rules": rules, "exceptions": []},
        headers=token(base, COUNSELLOR),
    )
    answer.raise_for_status()


def settle(page: Page) -> None:
    page.wait_for_load_state()
    assert_accessible(page)


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_counsellor_works_a_referral_to_completion_with_the_keyboard(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    open_calendar(live_server)
    referral = referral_in(live_server, book_by_service=True)
    at = f"/referrals/{referral['id']}"
    refused: list[str] = []
    page.on("console", lambda note: refused.append(note.text) if "Refused" in note.text else None)

    page.goto(live_server)
    settle(page)
    follow(page, page.locator("main a[href='/signin']"))
    page.wait_for_url("**/dev/authorize**")
    settle(page)
    follow(page, page.locator(f"button[value='{COUNSELLOR}']"))
    page.wait_for_url(f"{live_server}/worklist")
    settle(page)

    follow(page, page.locator(f"main a[href='{at}']").first)
    page.wait_for_url(f"**{at}")
    settle(page)
    follow(page, page.locator("form[action$='/actions/accept'] button"))
    expect(page.locator("[role=status]")).to_be_visible()
    settle(page)

    # The service books the first visit itself: a free time chosen and confirmed.
    follow(page, page.locator(f"a[href='{at}/book']"))
    settle(page)
    choose(page, page.locator("input[name=slot_id]").first)
    follow(page, page.locator("form[action$='/book/confirm'] button[type=submit]"))
    page.wait_for_url("**/book/confirm**")
    settle(page)
    follow(page, page.locator("main form[method=post] button[type=submit]").last)
    page.wait_for_url("**/appointments/**")
    settle(page)
    page.goto(f"{page.url}/reschedule")  # looked at, left as it is
    settle(page)

    page.goto(f"{live_server}{at}")
    follow(page, page.locator("form[action$='/actions/start'] button"))
    expect(page.locator("[role=status]")).to_be_visible()
    settle(page)

    # Two visits; the first corrected.
    for minutes in ("30", "45"):
        page.goto(f"{live_server}{at}/visits/new")
        settle(page)
        choose(page, page.locator("#contact_type-phone"))
        type_in(page, page.locator("#duration_minutes"), minutes)
        type_in(page, page.locator("#mvpa_days_per_week"), "3")
        type_in(page, page.locator("#mvpa_minutes_per_day"), "40")
        follow(page, page.locator("main form button[type=submit]").last)
        expect(page.locator("[role=status]")).to_be_visible()
        settle(page)
    follow(page, page.locator(".visit-card a[href$='/correct']").last)
    settle(page)
    type_in(page, page.locator("#duration_minutes"), "35")
    type_in(page, page.locator("#reason", has_text=""), "Kesto kirjattiin väärin.")
    follow(page, page.locator("main form button[type=submit]").last)
    expect(page.locator("main")).to_contain_text("Kesto kirjattiin väärin.")
    settle(page)

    # The activity plan, agreed with the patient, and its follow-ups booked.
    page.goto(f"{live_server}{at}/plan/edit")
    settle(page)
    type_in(page, page.locator("#goals-0-what"), "Reipas kävely")
    pick(page, page.locator("#goals-0-measure"), "minutes_per_week")
    type_in(page, page.locator("#goals-0-target"), "150")
    type_date(page, page.locator("#goals-0-target_date"), date.today() + timedelta(days=120))
    type_in(page, page.locator("#activities-0-kind"), "kävely")
    type_in(page, page.locator("#activities-0-frequency_per_week"), "5")
    type_in(page, page.locator("#activities-0-minutes"), "30")
    pick(page, page.locator("#activities-0-intensity"), "moderate")
    type_in(page, page.locator("#follow_up_months"), "1")
    choose(page, page.locator("#agreed_how-in_person"))
    tick(page, page.locator("#agreed_with_patient"))
    follow(page, page.locator("main form button[type=submit]").last)
    expect(page.locator("main")).to_contain_text("Reipas kävely")
    settle(page)
    follow(page, page.locator("form[action$='/plan/follow-ups'] button"))
    expect(page.locator("[role=status]")).to_be_visible()
    settle(page)

    # Completed: the appointments still to come are cancelled, as confirmed.
    page.goto(f"{live_server}{at}/complete")
    settle(page)
    choose(page, page.locator("#reason_code-goals_met"))
    type_in(page, page.locator("#reason_text"), "Tavoitteet saavutettiin.")
    type_in(page, page.locator("#outcome_summary"), "Liikkuu nyt 150 minuuttia viikossa.")
    box = page.locator("#cancel_booked_appointments")
    if box.count():
        tick(page, box)
    follow(page, page.locator("main form button[type=submit]").last)
    page.wait_for_load_state()
    expect(page.locator("[role=status]")).to_be_visible()
    settle(page)
    page.goto(f"{live_server}{at}")
    expect(page.locator(".referral-status")).to_contain_text("Avslutad" if swedish else "Päättynyt")
    tab_to(page, page.locator("a[href='/worklist']").first)
    assert refused == []
