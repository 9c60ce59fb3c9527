"""The harness the page tests stand on: the accessibility check fails where it must and passes
a clean page; Chromium reaches `askel serve` at its public address, in the locale asked for."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import Page

from tests.fixtures.accessibility import NotAccessible, assert_accessible

FLAWED = """<!doctype html><html lang="en"><head><title>Flawed</title></head><body><main>
<h1>Flawed</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<form><input type="text" name="hetu"></form>
</main></body></html>"""

CLEAN = """<!doctype html><html lang="fi"><head><title>Hakemus</title></head><body><main>
<h1>Hakemus</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Askelin tunnus">
<form><label for="name">Nimi</label><input id="name" type="text" name="name">
<button type="submit">Lähetä</button></form>
</main></body></html>"""


def test_the_accessibility_check_names_each_violation(page: Page) -> None:
    page.set_content(FLAWED)
    with pytest.raises(NotAccessible) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "image-alt (critical)" in report
    assert "label (critical)" in report
    assert ": img" in report
    assert "input" in report


def test_the_accessibility_check_passes_a_clean_page(page: Page) -> None:
    page.set_content(CLEAN)
    assert_accessible(page)


@pytest.mark.parametrize("locale", ["sv-FI"])
def test_a_page_is_seen_in_the_locale_asked_for(page: Page, locale: str) -> None:
    page.set_content("<title>Språk</title>")
    assert page.evaluate("navigator.language") == "sv-FI"
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Europe/Helsinki"


def test_the_live_server_is_localhost_and_its_issuer_agrees(live_server: str) -> None:
    # localhost: a secure context, where the pages' `Secure` session cookie is kept over http.
    assert urlsplit(live_server).hostname == "localhost"
    discovery = httpx.get(f"{live_server}/dev/.well-known/openid-configuration").json()
    assert discovery["issuer"] == f"{live_server}/dev"


def test_the_documentation_loads_in_chromium_from_askel_alone(page: Page, live_server: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}/docs")
    assert page.title() == "Askel API"
    assert page.evaluate("window.isSecureContext") is True
    # Swagger UI has drawn the document it read from this service.
    page.get_by_text("Physical-activity counselling", exact=False).first.wait_for()
    assert requested
    assert all(url.startswith(f"{live_server}/") for url in requested), requested
