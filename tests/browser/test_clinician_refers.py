"""A clinician refers a patient in Chromium, with the keyboard alone, in Finnish and in Swedish:
signed in through the development issuer's page, the patient found by identity code, the
referral form filled in (refused once, for the consent), checked, one answer changed, checked
again and sent, the service left to book; then the referral among those sent. axe-core checks
every page on the way, and no address ever holds the identity code."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.demo.region import demo_patients
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.keyboard import choose, follow, tick, type_in

CLINICIAN = "nurse.laihia"


def settle(page: Page, addresses: list[str]) -> None:
    page.wait_for_load_state()
    addresses.append(page.url)
    assert_accessible(page)


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_clinician_refers_a_patient_with_the_keyboard(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    patient = next(
        p for p in demo_patients() if p.home_municipality_code == ("231" if swedish else "152")
    )
    addresses: list[str] = []
    refused: list[str] = []
    page.on("console", lambda note: refused.append(note.text) if "Refused" in note.text else None)
    page.on("request", lambda request: addresses.append(request.url))

    page.goto(live_server)
    settle(page, addresses)
    follow(page, page.locator("main a[href='/signin']"))
    page.wait_for_url("**/dev/authorize**")
    settle(page, addresses)
    follow(page, page.locator(f"button[value='{CLINICIAN}']"))
    page.wait_for_url(f"{live_server}/patients/find")
    expect(page.locator("h1")).to_have_text("Sök en patient" if swedish else "Etsi potilas")
    settle(page, addresses)

    type_in(page, page.locator("#hetu"), patient.hetu)
    follow(page, page.locator("form[action='/patients/find'] button[type=submit]"))
    page.wait_for_url(f"{live_server}/patient")
    expect(page.locator("h1")).to_have_text(f"{patient.family_name}, {patient.given_name}")
    settle(page, addresses)

    follow(page, page.locator("main a[href='/patient/referral']"))
    settle(page, addresses)
    tick(page, page.locator("#common-1"))
    type_in(page, page.locator("#reason_text"), "Liikunta vähäistä, verensokeri koholla.")
    type_in(page, page.locator("#goal"), "Reipasta kävelyä 150 minuuttia viikossa.")
    choose(page, page.locator("#book_by_service-true"))
    follow(page, page.locator("main form button[type=submit]"))
    # Refused: no consent. The summary at the top links to the box, the message is beside it.
    expect(page.locator(".error-summary a[href='#consent_to_counselling']")).to_be_visible()
    expect(page.locator("#consent_to_counselling-error")).to_be_visible()
    expect(page.locator("#goal")).to_have_value("Reipasta kävelyä 150 minuuttia viikossa.")
    settle(page, addresses)
    tick(page, page.locator("#consent_to_counselling"))
    follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_url(f"{live_server}/patient/referral/check")
    settle(page, addresses)

    follow(page, page.locator("main a[href='/patient/referral#goal']"))
    expect(page.locator("#goal")).to_have_value("Reipasta kävelyä 150 minuuttia viikossa.")
    settle(page, addresses)
    type_in(page, page.locator("#goal"), "Kävelyä kolmesti viikossa.")
    follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_url(f"{live_server}/patient/referral/check")
    expect(page.locator("main")).to_contain_text("Kävelyä kolmesti viikossa.")
    settle(page, addresses)

    follow(page, page.locator("form[action='/patient/referral/send'] button"))
    page.wait_for_url(f"{live_server}/referrals/**")
    expect(page.locator("[role=status]")).to_contain_text(
        "kontaktar patienten senast" if swedish else "ottaa yhteyttä potilaaseen viimeistään"
    )
    referral_path = page.url.removeprefix(live_server)
    settle(page, addresses)

    follow(page, page.locator("nav a[href='/referrals/sent']"))
    expect(page.locator(f"main a[href='{referral_path}']")).to_be_visible()
    settle(page, addresses)

    assert not [address for address in addresses if patient.hetu in address]
    assert refused == []
