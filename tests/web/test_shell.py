"""The shell every page stands on: each page's POST refuses a missing form token, the language
chosen is remembered for the person, dates and times are written the Finnish way in Helsinki
time, and the pages' policy allows no inline script or style."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute
from starlette.testclient import TestClient

from app.web.pages import PageRoute
from app.web.templating import clock_time, finnish_date
from tests.fixtures.pages import follow, form_for, sign_in

SOME_ID = "00000000-0000-4000-8000-000000000000"


def _routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, within the routers included in others (the pages' have no prefix)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included.routes) if included is not None else (route,)


def page_posts(app: FastAPI) -> list[str]:
    return sorted(
        re.sub(r"\{[^}]+\}", SOME_ID, route.path)
        for route in _routes(app.routes)
        if isinstance(route, PageRoute) and "POST" in route.methods
    )


def test_there_are_page_posts_to_check(app: FastAPI) -> None:
    assert len(page_posts(app)) >= 15


def test_every_page_post_refuses_a_form_without_this_sessions_token(
    pages: TestClient, app: FastAPI
) -> None:
    sign_in(pages, "counsellor1.laihia", "/worklist")
    for path in page_posts(app):
        for token in ({}, {"csrf_token": "forged"}):
            answer = pages.post(path, data=token)
            assert answer.status_code == 403, path
            assert answer.headers["content-type"].startswith("text/html"), path


def test_the_language_chosen_is_remembered_for_the_person(pages: TestClient) -> None:
    page = sign_in(pages, "counsellor1.laihia", "/worklist")
    chosen = pages.post("/language", data={**form_for(page.text, "/language"), "language": "sv"})
    page = follow(pages, chosen)
    signed_out = pages.post("/signout", data=form_for(page.text, "/signout"))
    assert 'lang="fi"' in follow(pages, signed_out).text  # a new session, the browser's language
    again = sign_in(pages, "counsellor1.laihia", "/worklist")
    assert 'lang="sv"' in again.text
    assert "Arbetslista" in again.text


@pytest.mark.parametrize(
    ("moment", "language", "expected"),
    [
        (datetime(2026, 11, 29, 6, 0, tzinfo=UTC), "fi", "klo 8.00"),
        (datetime(2026, 11, 29, 6, 5, tzinfo=UTC), "sv", "kl. 8.05"),
        (datetime(2026, 7, 1, 9, 30, tzinfo=UTC), "en", "12:30"),
    ],
)
def test_times_are_helsinki_time_in_the_finnish_way(
    moment: datetime, language: str, expected: str
) -> None:
    assert clock_time(moment, language) == expected  # type: ignore[arg-type]


def test_dates_are_written_day_month_year() -> None:
    assert finnish_date(date(2026, 11, 29)) == "29.11.2026"
    # Late on 31 December in UTC is already New Year's Day in Helsinki.
    assert finnish_date(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "1.1.2027"


def test_the_pages_policy_allows_no_inline_script_or_style(pages: TestClient) -> None:
    policy = pages.get("/").headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
