"""How the auditors' and access administrators' pages lay out on a 1280 px screen: the log's
results fit it, their last column in sight, and the access review's choices sit on one line."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_access_admin import REVIEW, sign_in
from tests.fixtures.keyboard import follow


def test_the_logs_results_fit_the_screen(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "auditor.region", "/audit/events")
    follow(page, page.locator("form[action='/audit/events'] button[type=submit]"))
    table = page.locator("table.audit-table")
    expect(table).to_be_visible()
    overflow = page.locator(".audit-results__scroll").evaluate(
        "box => box.scrollWidth - box.clientWidth"
    )
    assert overflow <= 0
    last = page.locator("table.audit-table th").last.bounding_box()
    assert last is not None
    assert last["x"] + last["width"] <= 1280


def test_the_reviews_choices_sit_on_one_line(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "admin.region", REVIEW)
    choices = page.locator("fieldset.review-grant").first.locator("input[type=radio]")
    expect(choices).to_have_count(3)
    tops = {round(box["y"]) for box in (choices.nth(n).bounding_box() for n in range(3)) if box}
    assert len(tops) == 1, tops
