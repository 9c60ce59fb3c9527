"""Askel in a real browser: `askel serve` on a database of its own, driven in Debian's Chromium by
Playwright (`playwright install` cannot download browsers here). A machine without Chromium
skips these tests, except where ASKEL_REQUIRE_PEERS=1 (CI) makes that a failure.

Every test here, and any that uses the browser, is marked `browser` (`pytest -m browser` selects
them) and runs after all the others: between its calls, Playwright's sync API leaves its event
loop marked as running in the thread, so no other test could call `asyncio.run()` while the
session's browser is open.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.fixtures.databases import fresh_database_url
from tests.fixtures.serving import LOG, serving

HERE = Path(__file__).resolve().parent

# As root the sandbox must be off; the rest keeps Chromium from calling home during a test.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
LOCALE = "fi-FI"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    in_browser = [
        item
        for item in items
        if item.path.is_relative_to(HERE) or "browser" in getattr(item, "fixturenames", ())
    ]
    for item in in_browser:
        item.add_marker(pytest.mark.browser)
    left_out = _the_other_language(in_browser)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
    chosen = set(in_browser)
    items[:] = [item for item in items if item not in chosen] + [
        item for item in in_browser if item not in left_out
    ]


def _the_other_language(in_browser: list[pytest.Item]) -> list[pytest.Item]:
    """A flow walked in both Finnish and Swedish takes its Finnish walk on SQLite and its
    Swedish one on PostgreSQL: the language and the database do not meet below the pages, so
    CI (which runs both databases) proves every flow in both languages and on both databases,
    in half the time of every pairing. A run on one database alone keeps both walks."""
    if os.environ.get("ASKEL_CI_BOTH_DATABASES") != "1":
        return []
    on_postgres = os.environ.get("ASKEL_TEST_DATABASE_URL", "").startswith("postgresql")
    other = "fi-FI" if on_postgres else "sv-FI"
    walks: dict[tuple[str, str], set[str]] = {}
    for item in in_browser:
        locale = getattr(item, "callspec", None) and item.callspec.params.get("locale")
        if isinstance(locale, str):
            walks.setdefault((str(item.path), item.originalname), set()).add(locale)
    return [
        item
        for item in in_browser
        if walks.get((str(item.path), item.originalname), set()) >= {"fi-FI", "sv-FI"}
        and item.callspec.params.get("locale") == other
    ]


def _unavailable(reason: str) -> None:
    if os.environ.get("ASKEL_REQUIRE_PEERS") == "1":
        pytest.fail(f"a real browser is required here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str) -> Iterator[str]:
    """The base URL of `askel serve` (one per test worker) on a fresh database: an SQLite file,
    or one on the PostgreSQL server of ASKEL_TEST_DATABASE_URL; migrated and seeded with the
    demo data by the server itself, without the demo's history (a minute of work). Reached as
    `localhost`, a secure context to browsers (`Secure` and `__Host-` cookies work over http),
    which is also its public address and its development issuer's."""
    directory = tmp_path_factory.mktemp("live-server")
    database_url = fresh_database_url(directory, f"askel_browser_{worker_id_suffix}")
    settings = {"database_url": database_url, "seed_demo_history": "false"}
    with serving(directory, host="localhost", public=True, **settings) as (base, process):
        try:
            ready = httpx.get(f"{base}/readyz").status_code == 200
        except httpx.TransportError:
            ready = False
        if not ready or process.poll() is not None:
            pytest.fail(f"askel serve did not start:\n{(directory / LOG).read_text()[-4000:]}")
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens a page in a context of its own (cookies, storage): `new_page(locale="sv-FI")`."""
    contexts = []

    def open_page(locale: str = LOCALE) -> Page:
        # Helsinki time, as the pages show it, whatever the machine's zone.
        context = browser.new_context(locale=locale, timezone_id="Europe/Helsinki")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def locale() -> str:
    """The locale `page` is seen in (navigator.language, Accept-Language): Finnish, unless a
    test parametrizes `locale`."""
    return LOCALE


@pytest.fixture
def page(new_page: Callable[..., Page], locale: str) -> Page:
    """A page in a fresh context, in `locale`."""
    return new_page(locale=locale)
