"""The counselling tab in Chromium, in Finnish and in Swedish: a visit recorded through its form
(minutes a week computed as typed) and corrected, the plan made and changed, its versions side by
side, the plan printed for a Swedish-speaking patient, the outcome and the completion; axe-core
finds no WCAG 2.1 AA violation on any of them, refused forms included."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.live import referral_in, token

COUNSELLOR = "counsellor1.kaskinen"


def accepted_in(base: str) -> dict[str, Any]:
    """A referral of a Kaskinen patient who reads Swedish, accepted by its counsellor."""
    sent = referral_in(base, "231", preferred_language="sv")
    headers = {**token(base, COUNSELLOR), "If-Match": f'"{sent["version"]}"'}
    accepted = httpx.post(f"{base}/api/v1/referrals/{sent['id']}/accept", headers=headers)
    accepted.raise_for_status()
    referral: dict[str, Any] = accepted.json()
    return referral


def sign_in(page: Page, base: str, going: str) -> None:
    page.goto(f"{base}/signin?next={going}")
    page.wait_for_url("**/dev/authorize**")
    page.locator(f"button[value='{COUNSELLOR}']").click()
    page.wait_for_url(f"{base}{going}")


def choose(page: Page, field_id: str) -> None:
    """A radio button or a box ticked as a person does: by its label (HDS draws the box)."""
    page.locator(f"label[for='{field_id}']").click()
    expect(page.locator(f"#{field_id}")).to_be_checked()


def submit(page: Page, text: str) -> None:
    page.locator("main button[type=submit]", has_text=text).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_counsellor_works_the_tab_in_the_browser(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    referral = accepted_in(live_server)
    tab = f"/referrals/{referral['id']}"
    sign_in(page, live_server, f"{tab}/visits")
    expect(page.locator("h1")).to_have_text("Besök" if swedish else "Käynnit")
    assert_accessible(page)

    page.locator(f"a[href='{tab}/visits/new']").click()
    assert_accessible(page)
    # Refused: the summary links to the field, the message is beside it, the text is kept.
    choose(page, "contact_type-phone")
    page.fill("#duration_minutes", "30")
    page.fill("#mvpa_days_per_week", "9")
    submit(page, "Spara besöket" if swedish else "Tallenna käynti")
    expect(page.locator(".error-summary a[href='#mvpa_days_per_week']")).to_be_visible()
    expect(page.locator("#mvpa_days_per_week-error")).to_be_visible()
    expect(page.locator("#duration_minutes")).to_have_value("30")
    assert_accessible(page)
    page.fill("#mvpa_days_per_week", "3")
    page.fill("#mvpa_minutes_per_day", "45")
    expect(page.locator("#minutes-a-week")).to_have_text("135")  # htmx, as typed
    page.fill("#weight_kg", "81,5")
    submit(page, "Spara besöket" if swedish else "Tallenna käynti")
    expect(page.locator("[role=status]")).to_contain_text(
        "Besöket har antecknats." if swedish else "Käynti on kirjattu."
    )
    expect(page.locator(".visit-card")).to_contain_text("81,5 kg")
    assert_accessible(page)

    page.locator(".visit-card a[href$='/correct']").click()
    assert_accessible(page)
    page.fill("#duration_minutes", "40")
    page.fill("#reason", "Kesto kirjattiin väärin.")
    submit(page, "Spara rättelsen" if swedish else "Tallenna korjaus")
    expect(page.locator(".visit-card")).to_contain_text("Kesto kirjattiin väärin.")
    page.locator(".earlier-versions summary").click()
    assert_accessible(page)

    for version, support in ((1, "Puhelinsoitto."), (2, "Vertaisryhmä.")):
        page.goto(f"{live_server}{tab}/plan/edit")
        if version == 1:
            assert_accessible(page)
        page.fill("#goals-0-what", "Reipas kävely")
        page.select_option("#goals-0-measure", "minutes_per_week")
        page.fill("#goals-0-target", "150")
        page.fill("#goals-0-target_date", "2030-01-31")
        page.fill("#activities-0-kind", "kävely")
        page.fill("#activities-0-frequency_per_week", "5")
        page.fill("#activities-0-minutes", "30")
        page.select_option("#activities-0-intensity", "moderate")
        page.fill("#support_agreed", support)
        choose(page, "agreed_how-in_person")
        choose(page, "agreed_with_patient")
        submit(page, "Spara som en ny version" if swedish else "Tallenna uutena versiona")
        expect(page.locator("main")).to_contain_text(support)
    assert_accessible(page)
    page.goto(f"{live_server}{tab}/plan/versions?left=1&right=2")
    expect(page.locator(".versions-table__changed").first).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server}{tab}/plan/print")
    expect(page.locator("html")).to_have_attribute("lang", "sv")  # the patient's language
    expect(page.locator("h1")).to_have_text("Min motionsplan")
    assert_accessible(page)

    page.goto(f"{live_server}{tab}/complete")
    assert_accessible(page)
    submit(page, "Avsluta rådgivningen" if swedish else "Päätä neuvonta")
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)
