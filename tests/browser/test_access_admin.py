"""Access administrators in Chromium, with the keyboard: the region's administrator gives a
counsellor a grant, Kaskinen's administrator attests it and then revokes it (in Finnish and in
Swedish); the region's administrator reviews access, checks the decisions and applies them;
another municipality's administrator finds no such grant and a counsellor is refused the pages.
axe-core finds no WCAG 2.1 AA violation on any page, and the pages' policy refuses nothing.

The grants revoked here are the tests' own: the other browser tests' counsellors keep theirs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from app.kit.clock import HELSINKI
from tests.fixtures.accessibility import assert_accessible
from tests.fixtures.keyboard import choose, follow, pick, type_date, type_in
from tests.fixtures.live import token

REGION = "admin.region"
ADMIN = "admin.kaskinen"
OTHER_ADMIN = "admin.laihia"
COUNSELLOR = "counsellor2.kaskinen"
GRANTS = "/admin/access-grants"
REVIEW = "/admin/access-review"


def sign_in(page: Page, base: str, username: str, going: str) -> None:
    page.goto(f"{base}/signin?next={going}")
    page.locator(f"button[value='{username}']").click()
    page.wait_for_url(f"**{going}")


def watch(page: Page, refused: list[str]) -> None:
    """Notes in `refused` what the pages' policy refuses (nothing, with no inline script or
    style)."""
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Refused" in message.text else None,
    )


def user_id(base: str, username: str) -> str:
    users = httpx.get(f"{base}/dev/users").json()
    return str(next(user["id"] for user in users if user["username"] == username))


def grants(base: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{base}/api/v1{GRANTS}?limit=500", headers=token(base, REGION))
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def unattested_grant(base: str, username: str) -> str:
    """A second grant for the counsellor, through the API, not attested yet."""
    counsellor = next(u for u in httpx.get(f"{base}/dev/users").json() if u["username"] == username)
    today = datetime.now(HELSINKI).date()
    body = {"user_id": counsellor["id"], "service_id": counsellor["service_id"],
            "valid_from": str(today), "valid_until": str(today + timedelta(days=90))}  # fmt: skip
    answer = httpx.post(f"{base}/api/v1{GRANTS}", json=body, headers=token(base, REGION))
    answer.raise_for_status()
    grant_id: str = answer.json()["id"]
    return grant_id


@pytest.mark.parametrize("locale", ["fi-FI", "sv-FI"])
def test_the_region_grants_and_the_municipality_attests_and_revokes(
    new_page: Callable[..., Page], live_server: str, locale: str
) -> None:
    swedish = locale.startswith("sv")
    refused: list[str] = []
    region = new_page(locale=locale)
    watch(region, refused)
    sign_in(region, live_server, REGION, f"{GRANTS}/new")
    assert_accessible(region)
    pick(region, region.locator("#user_id"), user_id(live_server, COUNSELLOR))
    until = datetime.now(HELSINKI).date() + timedelta(days=365)
    type_date(region, region.locator("#valid_until"), until)
    follow(region, region.locator(f"form[action='{GRANTS}'] button[type=submit]"))
    expect(region.locator("[role=status]")).to_contain_text(
        "Behörigheten är beviljad." if swedish else "Käyttöoikeus on myönnetty."
    )
    assert_accessible(region)
    grant_path = region.url.removeprefix(live_server)
    assert grant_path.startswith(f"{GRANTS}/")

    admin = new_page(locale=locale)
    watch(admin, refused)
    sign_in(admin, live_server, ADMIN, GRANTS)
    assert_accessible(admin)
    follow(admin, admin.locator(f"a[href='{grant_path}']"))
    assert_accessible(admin)
    follow(admin, admin.locator(f"form[action='{grant_path}/attest'] button"))
    expect(admin.locator("[role=status]")).to_contain_text(
        "Behörigheten är bekräftad." if swedish else "Käyttöoikeus on vahvistettu."
    )
    assert_accessible(admin)

    # Revoking without a reason: the summary at the top links to the field beside its message.
    revoke = admin.locator(f"form[action='{grant_path}/revoke'] button[type=submit]")
    follow(admin, revoke)
    expect(admin.locator(".error-summary")).to_be_visible()
    expect(admin.locator("#reason")).to_have_attribute("aria-invalid", "true")
    assert_accessible(admin)
    type_in(admin, admin.locator("#reason"), "Siirtyi muihin tehtäviin.")
    follow(admin, revoke)
    expect(admin.locator("[role=status]")).to_contain_text(
        "Behörigheten är återkallad." if swedish else "Käyttöoikeus on peruttu."
    )
    assert_accessible(admin)
    revoked = next(g for g in grants(live_server) if grant_path.endswith(g["id"]))
    assert (revoked["attested_by"], revoked["revoked_by"]) == (ADMIN, ADMIN)

    # Another municipality's administrator: no such grant, as the API answers.
    other = new_page(locale=locale)
    sign_in(other, live_server, OTHER_ADMIN, GRANTS)
    answer = other.goto(f"{live_server}{grant_path}")
    assert answer is not None
    assert answer.status == 404
    expect(other.locator("h1")).to_have_text("Hittades inte" if swedish else "Ei löytynyt")
    assert_accessible(other)
    assert refused == []


def test_the_region_reviews_access_and_applies_the_decisions(page: Page, live_server: str) -> None:
    refused: list[str] = []
    watch(page, refused)
    to_revoke = unattested_grant(live_server, COUNSELLOR)
    sign_in(page, live_server, REGION, REVIEW)
    assert_accessible(page)
    # Any other grant the review lists (the demo's, unused) is kept.
    listed = page.locator("fieldset.review-grant").evaluate_all("sets => sets.map(s => s.id)")
    to_keep = next(i.removeprefix("decision-") for i in listed if not i.endswith(to_revoke))
    choose(page, page.locator(f"#decision-{to_keep}-keep"))
    choose(page, page.locator(f"#decision-{to_revoke}-revoke"))
    go_on = page.locator(f"form[action='{REVIEW}'] button[type=submit]")
    # A revocation without its reason: refused on the form, the choices kept.
    follow(page, go_on)
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(f"#decision-{to_revoke}-revoke")).to_be_checked()
    assert_accessible(page)
    type_in(page, page.locator("#reason"), "Myönnetty vahingossa.")
    follow(page, go_on)
    expect(page).to_have_url(f"{live_server}{REVIEW}/check")
    expect(page.locator("h1")).to_have_text("Tarkista katselmoinnin päätökset")
    assert_accessible(page)
    follow(page, page.locator(f"form[action='{REVIEW}/recertify'] button"))
    expect(page.locator("[role=status]")).to_contain_text("Voimaan jätetty: 1. Peruttu: 1.")
    assert_accessible(page)
    after = {g["id"]: g for g in grants(live_server)}
    assert after[to_keep]["recertified_by"] == REGION
    assert after[to_revoke]["revoke_reason"] == "Myönnetty vahingossa."
    assert refused == []


def test_a_counsellor_is_refused_the_administrators_pages(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "counsellor1.isokyro", "/worklist")
    for path in (GRANTS, REVIEW):
        answer = page.goto(f"{live_server}{path}")
        assert answer is not None
        assert answer.status == 403
        expect(page.locator("h1")).to_have_text("Ei sallittu")
        assert_accessible(page)
