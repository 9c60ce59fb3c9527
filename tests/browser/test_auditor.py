"""An auditor in Chromium, in Swedish, with the keyboard: signed in through the development
issuer's page, the log searched for a patient by identity code, the patient's access report
opened in the patient's language (Swedish), printed and saved as a PDF, and the log checked on
its status page; axe-core finds no WCAG 2.1 AA violation on any page, and no address ever holds
the identity code. A clinician who tries the audit pages is refused."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.demo.region import demo_patients
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.keyboard import choose, follow, type_in

AUDITOR = "auditor.region"


def settle(page: Page, addresses: list[str]) -> None:
    page.wait_for_load_state()
    addresses.append(page.url)
    assert_accessible(page)


def sign_in(page: Page, live_server: str, username: str, addresses: list[str]) -> None:
    page.goto(live_server)
    settle(page, addresses)
    follow(page, page.locator("main a[href='/signin']"))
    page.wait_for_url("**/dev/authorize**")
    follow(page, page.locator(f"button[value='{username}']"))


def test_an_auditor_prints_a_patients_access_report_in_swedish(
    new_page: Callable[..., Page], live_server: str
) -> None:
    page = new_page(locale="sv-FI")
    patient = next(p for p in demo_patients() if p.language == "sv")
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    sign_in(page, live_server, AUDITOR, addresses)
    # An auditor's home is the audit search.
    page.wait_for_url(f"{live_server}/audit/events")
    expect(page.locator("h1")).to_have_text("Sök i loggen")
    settle(page, addresses)
    type_in(page, page.locator("#hetu"), patient.hetu)
    follow(page, page.locator("form[action='/audit/events'] button[type=submit]"))
    page.wait_for_url(f"{live_server}/audit/events")
    expect(page.locator("#results-heading")).to_contain_text(patient.family_name)
    settle(page, addresses)

    follow(page, page.locator("nav a[href='/audit/report']"))
    expect(page.locator("h1")).to_have_text("Patientens logguppgiftsrapport")
    settle(page, addresses)
    type_in(page, page.locator("#hetu"), "131052-308X")
    follow(page, page.locator("main form button[type=submit]"))
    expect(page.locator(".error-summary a[href='#hetu']")).to_be_visible()
    settle(page, addresses)
    type_in(page, page.locator("#hetu"), patient.hetu)
    choose(page, page.locator("#language-fi"))  # the patient's own language wins
    follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_url(f"{live_server}/audit/patients/**/access-report**")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("h1")).to_have_text("Vem har behandlat mina uppgifter")
    expect(page.locator(".printed-plan__name")).to_have_text(
        f"{patient.given_name} {patient.family_name}"
    )
    expect(page.locator("main")).to_contain_text("Alueen tietosuojavastaava")
    settle(page, addresses)

    page.emulate_media(media="print")
    expect(page.locator(".printed-plan__screen-only")).to_be_hidden()
    assert page.pdf(format="A4").startswith(b"%PDF-")
    page.emulate_media(media="screen")
    with page.expect_download() as downloading:
        page.locator("a[href*='.pdf']").focus()
        page.keyboard.press("Enter")
    saved = downloading.value.path()
    assert saved.read_bytes().startswith(b"%PDF-")

    page.goto(f"{live_server}/audit/status")
    expect(page.locator("h1")).to_have_text("Loggens status")
    settle(page, addresses)
    follow(page, page.locator("form[action='/audit/status/verify'] button"))
    expect(page.locator("[role=status]")).to_contain_text("Loggen är intakt.")
    settle(page, addresses)

    assert not [address for address in addresses if patient.hetu in address]


def test_a_clinician_is_refused_the_audit_pages(
    new_page: Callable[..., Page], live_server: str
) -> None:
    page = new_page(locale="fi-FI")
    addresses: list[str] = []
    sign_in(page, live_server, "doctor.laihia", addresses)
    page.wait_for_url(f"{live_server}/patients/find")
    expect(page.locator("nav a[href^='/audit/']")).to_have_count(0)
    for path in ("/audit/events", "/audit/report", "/audit/status"):
        answer = page.goto(f"{live_server}{path}")
        assert answer is not None
        assert answer.status == 403
        expect(page.locator("code[data-code='forbidden']")).to_be_visible()
        settle(page, addresses)
