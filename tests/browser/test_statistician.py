"""The statistician's pages in Chromium, in Finnish and Swedish, with the keyboard alone: a table
built with its groupings and period, its protected cells marked, its CSV downloaded; the
municipality card opened from the navigation with its chart images loaded. axe-core finds no
WCAG 2.1 AA violation on any of them, and the pages' policy refuses nothing. A counsellor is
refused the statistics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.keyboard import choose, follow, pick, tab_to, tick

STATISTICIAN = "statistician.region"
# A chart's text alternative: what it shows, of which municipality and year.
DESCRIBED = re.compile(r"^.+, (Laihian kunta|Laihela kommun) \d{4}: ")


def sign_in_by_keyboard(page: Page, base: str, username: str) -> None:
    page.goto(base)
    tab_to(page, page.locator("a.hds-button[href='/signin']"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/dev/authorize**")
    tab_to(page, page.locator(f"button[value='{username}']"))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/dev/authorize" not in url and "/signin" not in url)


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_statistician_builds_a_table_and_opens_the_card(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Refused" in message.text else None,
    )
    sign_in_by_keyboard(page, live_server, STATISTICIAN)
    expect(page).to_have_url(f"{live_server}/statistics")
    expect(page.locator("h1")).to_have_text("Statistiktabeller" if swedish else "Tilastotaulukot")
    assert_accessible(page)

    # Referrals through the service chain, by month and age band, in the first quarter.
    choose(page, page.locator("#f-measure-referrals"))
    tick(page, page.locator("#f-group_by"))
    tick(page, page.locator("#f-group_by-age_band"))
    pick(page, page.locator("#f-part"), "q1")
    follow(page, page.locator("form.stat-form button[type=submit]"))
    page.wait_for_url("**/statistics?**")
    table = page.locator("table.stat-table")
    expect(table).to_be_visible()
    # Three months by seven age bands, and the total.
    expect(table.locator("tbody tr")).to_have_count(3 * 7 + 1)
    expect(table.locator("td.stat-figure--protected").first).to_be_visible()
    expect(page.locator(".stat-protection h2")).to_have_text(
        "Hur siffrorna skyddar människor" if swedish else "Miten luvut suojaavat ihmisiä"
    )
    assert_accessible(page)

    link = page.locator("a[href^='/statistics/table.csv']")
    tab_to(page, link)
    with page.expect_download() as downloading:
        page.keyboard.press("Enter")
    download = downloading.value
    assert download.suggested_filename.startswith("askel-referrals-")
    text = download.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("month,age_band,sent,accepted")

    follow(page, page.locator("nav a[href='/statistics/card']"))
    expect(page.locator("h1")).to_have_text("Kommunkort" if swedish else "Kuntakortti")
    assert_accessible(page)
    pick(page, page.locator("#f-municipality"), "399")
    follow(page, page.locator("form.stat-form button[type=submit]"))
    page.wait_for_url("**/statistics/municipalities/399/card?year=*")
    images = page.locator("img.stat-chart__image")
    expect(images).to_have_count(4)
    for index in range(4):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        expect(image).to_have_attribute("alt", DESCRIBED)
        loaded = image.evaluate("element => element.complete && element.naturalWidth")
        assert loaded == 640
    expect(page.locator("table.stat-table")).to_have_count(4)
    assert_accessible(page)
    assert refused == []


def test_a_counsellor_is_refused_the_statistics(page: Page, live_server: str) -> None:
    sign_in_by_keyboard(page, live_server, "counsellor1.laihia")
    expect(page.locator("nav a[href='/statistics']")).to_have_count(0)
    card = "/statistics/municipalities/399/card?year=2025"
    for path in ("/statistics", "/statistics/card", card):
        answer = page.goto(f"{live_server}{path}")
        assert answer is not None
        assert answer.status == 403
        expect(page.locator("h1")).to_have_text("Ei sallittu")
        assert_accessible(page)
