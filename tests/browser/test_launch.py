"""A clinician opens Askel from a patient's chart, in Chromium, with the keyboard alone, in
Finnish and in Swedish: the development patient system launches Askel by SMART App Launch (EHR
launch) with the Medplum peer as the chart's FHIR server; the chart's patient is found, or
registered from the chart, referred, the answers checked, the referral sent, a time booked and
the patient's confirmation opened. Every refused launch ends on its page. axe-core finds no WCAG
2.1 AA violation on any page, and the pages' policy refuses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from app.demo.chart import charts, condition_resources, patient_resource
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.keyboard import choose, follow, pick, tab_to, tick, type_in
from tests.fixtures.live import open_calendar
from tests.fixtures.peers import MedplumPeer
from tests.fixtures.serving import LOG, serving

CLIENT = {"client_id": "askel-launch", "client_secret": "a-secret-for-the-launch-tests"}
# A patient Askel knows (Laihia), and one only the chart knows (Kaskinen).
KNOWN, NEWCOMER = "demo-1", "new-3"
COUNSELLORS = {"399": ("counsellor1.laihia", "Laihia liikuntahalli"),
               "231": ("counsellor1.kaskinen", "Kaskinen liikuntahalli")}  # fmt: skip
# A bilingual municipality's place by its Swedish name, for a patient who reads Swedish.
SWEDISH_PLACES = {"Kaskinen liikuntahalli": "Kaskö idrottshall"}


@pytest.fixture(scope="module")
def launch_server(
    tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str, medplum_peer: MedplumPeer
) -> Iterator[str]:
    """`askel serve` configured with one patient system: the Medplum peer's FHIR server, whose
    authorization server is Askel's development issuer (the patient system's users are the
    demo's accounts)."""
    directory = tmp_path_factory.mktemp("launch-server")
    database_url = fresh_database_url(directory, f"askel_launch_{worker_id_suffix}")
    systems = json.dumps([{"iss": medplum_peer.base_url, **CLIENT}])
    settings = {"database_url": database_url, "seed_demo_history": "false",
                "patient_systems": systems}  # fmt: skip
    with serving(directory, host="localhost", public=True, **settings) as (base, process):
        if process.poll() is not None:
            pytest.fail(f"askel serve did not start:\n{(directory / LOG).read_text()[-4000:]}")
        yield base


@pytest.fixture
def patient_system(launch_server: str, medplum_peer: MedplumPeer) -> str:
    """The peer as the patient system: the charts on its FHIR server, its SMART configuration
    naming the development issuer's endpoints."""
    medplum_peer.reset()
    smart = httpx.get(f"{launch_server}/dev/fhir/.well-known/smart-configuration")
    medplum_peer.launch_apps_with(smart.raise_for_status().json())
    for chart_id in (KNOWN, NEWCOMER):
        for resource in (patient_resource(chart_id, charts()[chart_id]),
                         *condition_resources(chart_id)):  # fmt: skip
            address = f"{medplum_peer.base_url}/{resource['resourceType']}/{resource['id']}"
            medplum_peer.http.put(address, json=resource).raise_for_status()
    return launch_server


def settle(page: Page) -> None:
    page.wait_for_load_state()
    assert_accessible(page)


def open_from_chart(page: Page, base: str, username: str, chart_id: str) -> None:
    page.goto(f"{base}/dev/patient-system")
    settle(page)
    pick(page, page.locator("#launch-username"), username)
    pick(page, page.locator("#launch-patient"), chart_id)
    follow(page, page.locator("main form button[type=submit]"))


@pytest.mark.parametrize(("locale", "chart_id"), [("fi-FI", KNOWN), ("sv-FI", NEWCOMER)])
def test_a_clinician_refers_and_books_from_the_chart_with_the_keyboard(
    page: Page, patient_system: str, locale: str, chart_id: str
) -> None:
    base, swedish = patient_system, locale.startswith("sv")
    person = charts()[chart_id]
    counsellor, place = COUNSELLORS[person.home_municipality_code]
    open_calendar(base, counsellor, place)
    addresses: list[str] = []
    refused: list[str] = []
    page.on("console", lambda note: refused.append(note.text) if "Refused" in note.text else None)
    page.on("request", lambda request: addresses.append(request.url))

    open_from_chart(page, base, "doctor.laihia", chart_id)
    page.wait_for_url(f"{base}/patient")
    expect(page.locator("h1")).to_have_text(f"{person.family_name}, {person.given_name}")
    settle(page)

    follow(page, page.locator("main a[href='/patient/referral']"))
    settle(page)
    tick(page, page.locator("#common-1"))
    type_in(page, page.locator("#reason_text"), "Liikunta vähäistä, verenpaine koholla.")
    type_in(page, page.locator("#goal"), "Reipasta kävelyä 150 minuuttia viikossa.")
    tick(page, page.locator("#consent_to_counselling"))
    follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_url(f"{base}/patient/referral/check")
    # The chart's diagnoses came with the launch.
    for condition in condition_resources(chart_id):
        expect(page.locator("main")).to_contain_text(condition["code"]["coding"][0]["code"])
    settle(page)
    follow(page, page.locator("form[action='/patient/referral/send'] button"))
    page.wait_for_url("**/book**")
    settle(page)

    # Only in-person times: the list changes in place (htmx), the address follows.
    pick(page, page.locator("#filter-mode"), "in_person")
    tab_to(page, page.locator("form.slot-filters button[type=submit]"))
    page.keyboard.press("Enter")
    page.wait_for_url("**mode=in_person**")
    settle(page)
    choose(page, page.locator("input[name=slot_id]").first)
    follow(page, page.locator("form[action*='/book/hold'] button[type=submit]"))
    page.wait_for_url("**/book/confirm**")
    settle(page)
    follow(page, page.locator("main form[method=post] button[type=submit]"))
    page.wait_for_url("**/confirmation")
    settle(page)
    # The confirmation is the patient's sheet, in their language.
    shown = SWEDISH_PLACES.get(place, place) if person.language == "sv" else place
    expect(page.locator("main")).to_contain_text(shown)
    expect(page.locator("[role=status]")).to_contain_text(
        "Tiden har bokats." if swedish else "Aika on varattu."
    )
    assert not [address for address in addresses if person.hetu in address]
    assert refused == []


def test_each_refused_launch_ends_on_its_page(page: Page, patient_system: str) -> None:
    base = patient_system
    # Someone the patient system knows, but not as a clinician of Askel: refused and audited.
    open_from_chart(page, base, "counsellor1.laihia", KNOWN)
    expect(page.locator("[data-code]")).to_have_text("launch_user_unknown")
    settle(page)
    # A patient system Askel is not configured for.
    page.goto(f"{base}/launch?{urlencode({'iss': 'https://ehr.example/fhir', 'launch': 'x'})}")
    expect(page.locator("[data-code]")).to_have_text("launch_issuer_unknown")
    settle(page)
    # No launch context.
    page.goto(f"{base}/launch?{urlencode({'iss': patient_system_iss(base)})}")
    expect(page.locator("[data-code]")).to_have_text("launch_context_missing")
    settle(page)
    # An answer this browser did not ask for.
    page.goto(f"{base}/launch/callback?code=x&state=y")
    expect(page.locator("[data-code]")).to_have_text("launch_state_mismatch")
    settle(page)

    # A code granted for another PKCE challenge than Askel's: the way to the authorization
    # endpoint changed on its way through the browser (its requests share the page's cookies).
    page.goto(f"{base}/dev/patient-system")
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    form = {"csrf_token": csrf, "username": "doctor.laihia", "patient": KNOWN,
            "iss": patient_system_iss(base)}  # fmt: skip
    opened = page.request.post(f"{base}/dev/patient-system/launch", form=form, max_redirects=0)
    asked = page.request.get(urljoin(base, opened.headers["location"]), max_redirects=0)
    target = urlsplit(asked.headers["location"])
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    query["code_challenge"] = "A" * 43
    page.goto(f"{target.scheme}://{target.netloc}{target.path}?{urlencode(query)}")
    expect(page.locator("[data-code]")).to_have_text("launch_refused")
    settle(page)


def patient_system_iss(base: str) -> str:
    """The configured patient system's `iss`, as its development page offers it."""
    page = httpx.get(f"{base}/dev/patient-system").text
    start = page.index('name="iss" value="') + len('name="iss" value="')
    return page[start : page.index('"', start)]
