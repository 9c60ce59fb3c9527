"""The counsellor's calendar in Chromium, in Finnish and Swedish: the weekly availability set
through its form, the week with its free times, a referral left to the service booked by
choosing a time and confirming it, the appointment's page and a refused cancellation; axe-core
finds no WCAG 2.1 AA violation on any of them, and the pages' policy refuses nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.kit.clock import HELSINKI
from app.kit.public_holidays import is_public_holiday
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.live import referral_in

# Isokyrö's counsellor: the other browser tests work with Laihia's and Kaskinen's.
COUNSELLOR = "counsellor1.isokyro"
ISOKYRO = "152"


def sign_in(page: Page, base: str, going: str) -> None:
    page.goto(f"{base}/signin?next={going}")
    page.locator(f"button[value='{COUNSELLOR}']").click()
    page.wait_for_url(f"**{going}")


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_counsellor_sets_times_and_books_a_referral(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Refused" in message.text else None,
    )
    referral = referral_in(live_server, ISOKYRO, book_by_service=True)
    # Tomorrow, or the first day after it that is no public holiday (a weekly time makes no
    # free times on one).
    tomorrow = (datetime.now(HELSINKI) + timedelta(days=1)).date()
    while is_public_holiday(tomorrow):
        tomorrow += timedelta(days=1)

    sign_in(page, live_server, "/calendar/availability")
    assert_accessible(page)
    row = page.locator("fieldset#f-rules-0")
    row.locator("select").select_option(str(tomorrow.weekday()))
    row.locator("#f-rules-0-start_time").fill("09:00")
    row.locator("#f-rules-0-end_time").fill("12:00")
    row.locator("#f-rules-0-location").fill("Isonkyrön liikuntahalli")
    row.locator("#f-rules-0-valid_from").fill(tomorrow.isoformat())
    for box in ("visit_types-0", "modes-0", "languages-0", "languages-1"):
        row.locator(f"#f-rules-0-{box}").check()
    page.locator("button.availability-save").click()
    page.wait_for_load_state()
    expect(page.locator("[role=status]")).to_contain_text("Sparat" if swedish else "Tallennettu")
    assert_accessible(page)

    year, week, _ = tomorrow.isocalendar()
    page.goto(f"{live_server}/calendar?week={year}-W{week:02d}")
    expect(page.locator("h1")).to_have_text(
        f"{'Kalender, vecka' if swedish else 'Kalenteri, viikko'} {week}"
    )
    expect(page.locator("table").first).to_contain_text("Ledig tid" if swedish else "Vapaa aika")
    assert_accessible(page)

    page.goto(f"{live_server}/referrals/{referral['id']}/book")
    assert_accessible(page)
    page.locator("label[for^=slot-]").first.click()  # HDS draws the radio on its label
    page.locator("form[action$='/book/confirm'] button[type=submit]").click()
    page.wait_for_url("**/book/confirm**")
    assert_accessible(page)
    page.locator("form[method=post] button[type=submit]").last.click()
    page.wait_for_url("**/appointments/**")
    expect(page.locator("[role=status]")).to_contain_text(
        "Tiden har bokats." if swedish else "Aika on varattu."
    )
    assert_accessible(page)

    # A cancellation without its reason: the summary links to the fields, nothing is lost.
    page.locator("form[action$='/cancel'] button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#f-reason")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    assert refused == []
