"""The referring clinician books the counselling time in Chromium with the keyboard alone, in
Finnish and in Swedish: signed in on the way to the referral's booking page, the free times
narrowed by a filter (in place, through htmx), a time held, checked and booked, the patient's
confirmation opened (in the patient's language, Swedish) and found again from the referral's
page. axe-core finds no WCAG 2.1 AA violation on any page, and the pages' policy refuses
nothing."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from app.demo.region import demo_patients
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.factories import referral_body
from tests.fixtures.keyboard import choose, follow, pick, tab_to
from tests.fixtures.live import open_calendar, token

# Laihia's doctor refers a Swedish-speaking patient of Kaskinen, whose service's second
# counsellor (no other browser test uses their times) offers the times.
REFERRER = "doctor.laihia"
COUNSELLOR = "counsellor2.kaskinen"
KASKINEN = "231"
PLACE = "Kaskinen liikuntahalli"
# Kaskinen is bilingual: its hall's Swedish name, for a reader of Swedish.
PLACE_SV = "Kaskö idrottshall"


def swedish_patients_referral(base: str, index: int) -> dict[str, Any]:
    """A referral sent through the API for a Swedish-speaking patient of Kaskinen."""
    hetu = [p.hetu for p in demo_patients()
            if p.home_municipality_code == KASKINEN and p.language == "sv"][index]  # fmt: skip
    doctor = token(base, REFERRER)
    found = httpx.post(f"{base}/api/v1/patients/lookup", json={"hetu": hetu}, headers=doctor)
    found.raise_for_status()
    body = referral_body(found.json()["id"], preferred_language="sv")
    sent = httpx.post(f"{base}/api/v1/referrals", json=body, headers=doctor)
    sent.raise_for_status()
    referral: dict[str, Any] = sent.json()
    return referral


def settle(page: Page) -> None:
    page.wait_for_load_state()
    assert_accessible(page)


@pytest.mark.parametrize(("locale", "index"), [("fi-FI", 0), ("sv-FI", 1)])
def test_a_clinician_books_with_the_keyboard_and_opens_the_confirmation(
    page: Page, live_server: str, locale: str, index: int
) -> None:
    swedish = locale.startswith("sv")
    open_calendar(live_server, COUNSELLOR, PLACE)
    referral = swedish_patients_referral(live_server, index)
    at = f"/referrals/{referral['id']}"
    refused: list[str] = []
    page.on("console", lambda note: refused.append(note.text) if "Refused" in note.text else None)

    # Signed out, the booking page leads through the sign-in and back.
    page.goto(f"{live_server}{at}/book")
    page.wait_for_url("**/dev/authorize**")
    settle(page)
    follow(page, page.locator(f"button[value='{REFERRER}']"))
    page.wait_for_url(f"**{at}/book")
    settle(page)
    expect(page.locator("h1")).to_contain_text("Boka en tid" if swedish else "Varaa aika")

    # Only in-person times: the list changes in place and the address follows.
    pick(page, page.locator("#filter-mode"), "in_person")
    tab_to(page, page.locator("form.slot-filters button[type=submit]"))
    with page.expect_request(lambda sent: "mode=in_person" in sent.url) as asked:
        page.keyboard.press("Enter")
    assert asked.value.headers.get("hx-request") == "true"
    page.wait_for_url("**mode=in_person**")
    expect(page.locator("#slot-count")).to_contain_text(
        "Lediga tider som visas" if swedish else "Vapaita aikoja näkyvissä"
    )
    settle(page)

    choose(page, page.locator("input[name=slot_id]").first)
    follow(page, page.locator("form[action*='/book/hold'] button[type=submit]"))
    page.wait_for_url("**/book/confirm**")
    settle(page)
    expect(page.locator("main")).to_contain_text(
        "Tiden är reserverad för dig" if swedish else "Aika on pidätetty sinulle"
    )
    follow(page, page.locator("main form[method=post] button[type=submit]"))
    page.wait_for_url("**/confirmation")
    settle(page)
    # The sheet is the patient's, in Swedish; the line above it is the reader's.
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("h1")).to_have_text("Din tid för motionsrådgivning")
    expect(page.locator("main")).to_contain_text(PLACE_SV)
    expect(page.locator("main")).to_contain_text("Kaskö motionsrådgivning")
    expect(page.locator("[role=status]")).to_contain_text(
        "Tiden har bokats." if swedish else "Aika on varattu."
    )
    confirmation = page.url

    # Found again from the referral's page.
    follow(page, page.locator(f"a[href='{at}']"))
    page.wait_for_url(f"**{at}")
    settle(page)
    follow(page, page.locator("a[href$='/confirmation']"))
    page.wait_for_url(confirmation)
    settle(page)
    assert refused == []
