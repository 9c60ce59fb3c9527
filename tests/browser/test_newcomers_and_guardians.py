"""Someone without a personal identity code, and a child's guardians, in Chromium with the
keyboard alone, in Finnish and in Swedish: a clinician finds a newcomer by the region's temporary
identifier, registers them with their birth date and records their code when it arrives; a
counsellor records a child's guardians from the child's referral, refused once for a phone
number. axe-core checks every page on the way, refused forms included."""

from __future__ import annotations

import uuid
from datetime import date

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from app.patients.hetu import make_hetu
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.factories import referral_body
from tests.fixtures.keyboard import choose, follow, pick, type_date, type_in
from tests.fixtures.live import token

SYSTEM = "urn:oid:1.2.246.10.1234567.22.2026"
BORN = date(1993, 4, 21)


def sign_in(page: Page, base: str, username: str, going: str) -> None:
    page.goto(f"{base}/signin?next={going}")
    page.wait_for_url("**/dev/authorize**")
    follow(page, page.locator(f"button[value='{username}']"))
    page.wait_for_url(f"{base}{going}")
    assert_accessible(page)


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_newcomer_is_registered_by_the_temporary_identifier_and_identified(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    # Each run its own person: the live server's records stay between the tests.
    value = uuid.uuid4().hex[:10]
    code = make_hetu(BORN, 950 + (1 if swedish else 0))
    sign_in(page, live_server, "nurse.laihia", "/patients/find")

    type_in(page, page.locator("#temporary_id-system"), SYSTEM)
    type_in(page, page.locator("#temporary_id-value"), value)
    follow(page, page.locator("form[action='/patients/find-temporary'] button"))
    page.wait_for_url(f"{live_server}/patients/find-temporary")
    expect(page.locator("#temporary_id-value")).to_have_value(value)
    assert_accessible(page)

    type_date(page, page.locator("#birth_date"), BORN)
    type_in(page, page.locator("#given_name"), "Olena")
    type_in(page, page.locator("#family_name"), "Kovalenko")
    pick(page, page.locator("#home_municipality_code"), "399")
    choose(page, page.locator("#sex-female"))
    follow(page, page.locator("form[action='/patients/register'] button[type=submit]"))
    page.wait_for_url(f"{live_server}/patient")
    expect(page.locator("h1")).to_have_text("Kovalenko, Olena")
    expect(page.locator("main")).to_contain_text(
        "Tillfällig identifikation" if swedish else "Väliaikainen tunniste"
    )
    assert_accessible(page)

    type_in(page, page.locator("#hetu"), "210493-0000")
    follow(page, page.locator("form[action='/patient/identify'] button"))
    expect(page.locator("#hetu-error")).to_be_visible()
    assert_accessible(page)
    type_in(page, page.locator("#hetu"), code)
    follow(page, page.locator("form[action='/patient/identify'] button"))
    page.wait_for_url(f"{live_server}/patient")
    expect(page.locator("main")).to_contain_text(
        "Personbeteckningen är registrerad." if swedish else "Henkilötunnus on kirjattu."
    )
    expect(page.locator("form[action='/patient/identify']")).to_have_count(0)
    assert_accessible(page)


def _child_referral(base: str, individual: int) -> str:
    body = {
        "hetu": make_hetu(date(date.today().year - 10, 2, 14), individual),
        "given_name": "Aino",
        "family_name": "Mäkelä",
        "home_municipality_code": "399",
        "language": "fi",
    }
    child = httpx.post(f"{base}/api/v1/patients", json=body, headers=token(base, "nurse.laihia"))
    child.raise_for_status()
    sent = httpx.post(
        f"{base}/api/v1/referrals",
        json=referral_body(child.json()["id"], consent_given_by="guardian"),
        headers=token(base, "doctor.laihia"),
    )
    sent.raise_for_status()
    return str(sent.json()["id"])


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_a_counsellor_records_a_childs_guardians_with_the_keyboard(
    page: Page, live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    referral_id = _child_referral(live_server, 960 + (1 if swedish else 0))
    sign_in(page, live_server, "counsellor1.laihia", f"/referrals/{referral_id}")
    follow(page, page.locator(f"main a[href='/referrals/{referral_id}/guardians']"))
    page.wait_for_url(f"{live_server}/referrals/{referral_id}/guardians")
    assert_accessible(page)

    type_in(page, page.locator("#guardians-0-name"), "Liisa Mäkelä")
    type_in(page, page.locator("#guardians-0-phone"), "040 123")
    pick(page, page.locator("#guardians-0-language"), "sv")
    follow(page, page.locator("main form button[type=submit]"))
    expect(page.locator(".error-summary a[href='#guardians-0-phone']")).to_be_visible()
    expect(page.locator("#guardians-0-name")).to_have_value("Liisa Mäkelä")
    assert_accessible(page)

    type_in(page, page.locator("#guardians-0-phone"), "+358401110011")
    follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_url(f"{live_server}/referrals/{referral_id}")
    expect(page.locator("main")).to_contain_text(
        "Vårdnadshavarna är registrerade." if swedish else "Huoltajat on kirjattu."
    )
    assert_accessible(page)
