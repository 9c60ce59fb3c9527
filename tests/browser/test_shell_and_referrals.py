"""The pages in Chromium: signing in with the keyboard alone through the development issuer's
page, the worklist and a referral's page in Finnish and Swedish, axe-core finding no WCAG 2.1 AA
violation on any of them, and the same "not found" for a referral of another municipality."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.keyboard import tab_to
from tests.fixtures.live import referral_in

COUNSELLOR = "counsellor1.laihia"
OTHER_COUNSELLOR = "counsellor1.kaskinen"


def sign_in_by_keyboard(page: Page, base: str, username: str, going: str = "/") -> None:
    page.goto(f"{base}{going}")
    if "/dev/authorize" not in page.url:
        assert_accessible(page)
        tab_to(page, page.locator("a.hds-button[href='/signin']"))
        page.keyboard.press("Enter")
    page.wait_for_url("**/dev/authorize**")
    assert_accessible(page)
    tab_to(page, page.locator(f"button[value='{username}']"))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/dev/authorize" not in url and "/signin" not in url)


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_counsellor_signs_in_and_works_a_referral_with_the_keyboard(
    page: Page, live_server: str, locale: str
) -> None:
    referral = referral_in(live_server)
    refused: list[str] = []
    # The pages' policy allows no inline script or style: anything refused shows here.
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Refused" in message.text else None,
    )
    sign_in_by_keyboard(page, live_server, COUNSELLOR)
    expect(page).to_have_url(f"{live_server}/worklist")
    swedish = locale.startswith("sv")
    expect(page.locator("h1")).to_have_text("Arbetslista" if swedish else "Työjono")
    expect(page.locator("html")).to_have_attribute("lang", "sv" if swedish else "fi")
    assert_accessible(page)
    tab_to(page, page.locator(f"a[href='/referrals/{referral['id']}']"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/referrals/{referral['id']}")
    assert_accessible(page)
    accept = page.locator("form[action$='/actions/accept'] button")
    tab_to(page, accept)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("[role=status]")).to_contain_text(
        "Remissen godkändes." if swedish else "Lähete hyväksyttiin."
    )
    assert_accessible(page)
    # A refused form: the summary at the top links to the field, the message is beside it.
    page.locator("form[action$='/actions/start'] button").wait_for()
    cancel = page.locator("form[action$='/actions/cancel']")
    cancel.locator("summary").click()
    cancel.locator("textarea").fill("Potilas muutti.")
    cancel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#cancel-reason_text")).to_have_value("Potilas muutti.")
    assert_accessible(page)
    assert refused == []


def test_the_shells_own_pages_pass_axe(page: Page, live_server: str) -> None:
    for path in ("/", "/accessibility", "/no-such-page", "/signin/callback?code=x&state=y"):
        page.goto(f"{live_server}{path}")
        assert_accessible(page)
    # The home page of a role whose work is not in the browser yet, and a refused form.
    sign_in_by_keyboard(page, live_server, "steward.region")
    expect(page.locator("h1")).to_contain_text("Tervetuloa")
    assert_accessible(page)
    page.evaluate(
        "document.querySelector('form[action=\"/signout\"] input[name=csrf_token]').value = 'x'"
    )
    page.locator("form[action='/signout'] button").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Lomake on vanhentunut")
    assert_accessible(page)
    page.goto(f"{live_server}/accessibility")
    page.locator("button[value='sv']").click()
    expect(page.locator("h1")).to_have_text("Tillgänglighetsutlåtande")
    assert_accessible(page)


def test_another_municipalitys_counsellor_finds_no_such_referral(
    new_page: Callable[..., Page], live_server: str
) -> None:
    referral = referral_in(live_server)
    page = new_page()
    sign_in_by_keyboard(page, live_server, OTHER_COUNSELLOR)
    for path in (f"/referrals/{referral['id']}", "/referrals/00000000-0000-4000-8000-000000000000"):
        answer = page.goto(f"{live_server}{path}")
        assert answer is not None
        assert answer.status == 404
        expect(page.locator("h1")).to_have_text("Ei löytynyt")
        assert_accessible(page)
