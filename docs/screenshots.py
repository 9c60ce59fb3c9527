"""Screenshots of the main pages for the README: `python docs/screenshots.py` (needs the test
extras and Debian's Chromium). Starts `askel serve` on the embedded default with the demo's
history in a scratch directory, signs in as Laihia's counsellor through the development issuer's
page, and saves each page to docs/screenshots/ as PNG."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess  # nosec B404: runs askel itself
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent / "screenshots"
COUNSELLOR = "counsellor1.laihia"
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
                context = browser.new_context(
                    locale="fi-FI", timezone_id="Europe/Helsinki",
                    viewport={"width": 1280, "height": 860},
                )  # fmt: skip
                page = context.new_page()
                page.goto(base)
                _shoot(page, "welcome")
                page.click("a[href='/signin']")
                page.wait_for_url("**/dev/authorize**")
                _shoot(page, "sign-in")
                page.click(f"button[value='{COUNSELLOR}']")
                page.wait_for_url(f"{base}/worklist")
                _shoot(page, "worklist")
                # A referral in counselling, with its visits and plan from the history.
                page.goto(f"{base}/worklist?status=in_progress")
                page.click("main table a >> nth=0")
                page.wait_for_load_state()
                _shoot(page, "referral")
                referral = page.url.removeprefix(base)
                pages = (
                    ("visits", f"{referral}/visits"),
                    ("visit-form", f"{referral}/visits/new"),
                    ("plan", f"{referral}/plan"),
                    ("plan-print", f"{referral}/plan/print"),
                    ("calendar", "/calendar"),
                    ("availability", "/calendar/availability"),
                    ("accessibility", "/accessibility"),
                )
                for name, path in pages:
                    page.goto(f"{base}{path}")
                    _shoot(page, name)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
