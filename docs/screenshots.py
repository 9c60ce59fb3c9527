"""Screenshots of the main pages for the README: `python docs/screenshots.py` (needs the test
extras and Debian's Chromium). Starts `askel serve` on the embedded default with the demo's
history in a scratch directory, signs in as a demo user of each role in turn through the
development issuer's page, each in a browser of its own, and saves their pages to
docs/screenshots/ as PNG."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess  # nosec B404: runs askel itself
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import Browser, Page, sync_playwright

from app.demo.region import demo_patients
from app.kit.clock import today_in_helsinki

HERE = Path(__file__).resolve().parent / "screenshots"
# A demo user of each role, as the development issuer's page lists them.
COUNSELLOR, ADMINISTRATOR = "counsellor1.laihia", "admin.region"
AUDITOR, STATISTICIAN = "auditor.region", "statistician.region"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(directory: Path, port: int) -> subprocess.Popen[bytes]:
    base = f"http://localhost:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASKEL_")}
    env.update(ASKEL_PUBLIC_URL=base, ASKEL_DEV_ISSUER_URL=f"{base}/dev")
    askel = Path(sys.executable).parent / "askel"
    command = [str(askel), "serve", "--host", "localhost", "--port", str(port)]
    process = subprocess.Popen(command, cwd=directory, env=env, stdout=subprocess.DEVNULL)  # nosec B603
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.5)
    process.kill()
    sys.exit("askel serve did not start")


def _shoot(page: Page, name: str) -> None:
    page.screenshot(path=HERE / f"{name}.png", full_page=False)
    sys.stdout.write(f"docs/screenshots/{name}.png\n")


def _sign_in(browser: Browser, base: str, username: str, shots: bool = False) -> Page:
    """A new browser (context) signed in as the demo user through the development issuer's
    page; `shots` saves the welcome and sign-in pages on the way."""
    context = browser.new_context(
        locale="fi-FI", timezone_id="Europe/Helsinki", viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    page.goto(base)
    if shots:
        _shoot(page, "welcome")
    page.click("a[href='/signin']")
    page.wait_for_url("**/dev/authorize**")
    if shots:
        _shoot(page, "sign-in")
    page.click(f"button[value='{username}']")
    page.wait_for_url(
        lambda url: url.startswith(base) and "/dev/" not in url and "/signin" not in url
    )
    return page


def _visit(page: Page, base: str, pages: tuple[tuple[str, str], ...]) -> None:
    for name, path in pages:
        page.goto(f"{base}{path}")
        _shoot(page, name)


def _send(page: Page, **fields: str) -> None:
    """Fills in the page's form as a person does (a list's choice by its text) and sends it."""
    for name, value in fields.items():
        field = page.locator(f"main [name={name}]").first
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_load_state()


def _scroll_to(page: Page, selector: str) -> None:
    """The part of the page the picture is of at its top, with a little room above it."""
    page.locator(selector).evaluate("part => { part.scrollIntoView(); window.scrollBy(0, -24); }")


def counsellor(browser: Browser, base: str) -> None:
    page = _sign_in(browser, base, COUNSELLOR, shots=True)
    _shoot(page, "worklist")
    # A referral in counselling, with its visits and plan from the history.
    page.goto(f"{base}/worklist?status=in_progress")
    page.click("main table a >> nth=0")
    page.wait_for_load_state()
    _shoot(page, "referral")
    referral = page.url.removeprefix(base)
    _visit(page, base, (
        ("visits", f"{referral}/visits"),
        ("visit-form", f"{referral}/visits/new"),
        ("plan", f"{referral}/plan"),
        ("plan-print", f"{referral}/plan/print"),
        ("calendar", "/calendar"),
        ("availability", "/calendar/availability"),
        ("accessibility", "/accessibility"),
    ))  # fmt: skip


def access_administrator(browser: Browser, base: str) -> None:
    page = _sign_in(browser, base, ADMINISTRATOR)
    _shoot(page, "grants")
    # The history's grants are all attested and in use: a short one not yet attested gives
    # the review something to decide.
    page.goto(f"{base}/admin/access-grants/new")
    start, end = today_in_helsinki(), today_in_helsinki() + timedelta(days=14)
    whom = "Liikuntaneuvoja 2 Isokyrö (Isokyrö liikuntaneuvonta)"
    _send(page, user_id=whom, valid_from=start.isoformat(), valid_until=end.isoformat())
    _visit(page, base, (("access-review", "/admin/access-review"),))


def auditor(browser: Browser, base: str) -> None:
    page = _sign_in(browser, base, AUDITOR)
    # The first Swedish-speaking patient the history has referred: a report in Swedish, of
    # more than the registration and these searches. The identity code goes in the forms'
    # bodies, as a person types it, never in an address.
    swedish = [person.hetu for person in demo_patients() if person.language == "sv"]
    for hetu in swedish:
        page.goto(f"{base}/audit/report")
        _send(page, hetu=hetu)
        if page.locator("main tbody tr").count() > 8:
            break
    _shoot(page, "access-report")
    page.goto(f"{base}/audit/events")
    _send(page, hetu=hetu)
    _scroll_to(page, "#results-heading")
    _shoot(page, "audit-search")
    _visit(page, base, (("audit-status", "/audit/status"),))


def statistician(browser: Browser, base: str) -> None:
    page = _sign_in(browser, base, STATISTICIAN)
    for group in ("municipality", "age_band", "sex"):
        page.check(f"input[name=group_by][value={group}]")
    _send(page)
    _scroll_to(page, ".stat-result")
    _shoot(page, "statistics-table")
    page.goto(f"{base}/statistics/card")
    _send(page, municipality="Laihian kunta", year=str(today_in_helsinki().year))
    _shoot(page, "statistics-card")


def main() -> None:
    HERE.mkdir(exist_ok=True)
    port = _free_port()
    base = f"http://localhost:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        server = _serve(Path(scratch), port)
        try:
            with sync_playwright() as playwright:
                chromium = shutil.which("chromium")
                browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                for role in (counsellor, access_administrator, auditor, statistician):
                    role(browser, base)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
