"""Signing in to the pages: OpenID Connect's code flow with PKCE through the development
issuer's page, a server-side session under a new id, time-outs, sign-out."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.models import User
from app.web.models import PageSession
from tests.fixtures.pages import follow, form_for, sign_in

COOKIE = "__Host-askel-session"


def test_a_person_signs_in_through_the_issuers_page_and_lands_where_they_were_going(
    pages: TestClient,
) -> None:
    start = pages.get("/signin", params={"next": "/accessibility"})
    assert start.status_code == 302
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["response_type"] == ["code"]
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["client_id"] == ["askel-pages"]
    assert "openid" in asked["scope"][0].split()
    assert asked["state"]
    assert asked["nonce"]
    landed = sign_in(pages, "counsellor1.kaskinen", "/accessibility")
    assert landed.status_code == 200
    assert "Saavutettavuusseloste" in landed.text


def test_sign_in_issues_a_new_session_id(pages: TestClient) -> None:
    pages.get("/")  # an anonymous session, with its form token
    before = pages.cookies.get(COOKIE)
    assert before
    sign_in(pages, "counsellor1.kaskinen")
    after = pages.cookies.get(COOKIE)
    assert after
    assert after != before


def test_the_cookie_is_host_only_secure_http_only_and_lax(pages: TestClient) -> None:
    answer = pages.get("/")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    assert "Domain" not in cookie


def test_a_code_is_exchanged_once_and_only_with_its_verifier(pages: TestClient) -> None:
    issuer_page = follow(pages, pages.get("/signin"))
    fields = form_for(issuer_page.text, "/dev/authorize")
    back = pages.post("/dev/authorize", data={**fields, "username": "nurse.laihia"})
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    wrong = pages.post(
        "/dev/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": "askel-pages",
              "redirect_uri": fields["redirect_uri"], "code_verifier": "x" * 43},
    )  # fmt: skip
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # The code was spent by the failed attempt: the real callback cannot use it either.
    landed = follow(pages, pages.get(urlsplit(back.headers["location"]).path + "?" +
                                     urlsplit(back.headers["location"]).query))  # fmt: skip
    assert landed.status_code == 400
    assert "Kirjautuminen epäonnistui" in landed.text or "Sign-in failed" in landed.text


def test_a_callback_without_the_sessions_state_is_refused(pages: TestClient) -> None:
    answer = pages.get("/signin/callback", params={"code": "forged", "state": "forged"})
    assert answer.status_code == 400


def test_sign_out_ends_the_session(pages: TestClient) -> None:
    home = sign_in(pages, "auditor.region")
    assert home.status_code == 200
    signed_out = pages.post("/signout", data=form_for(home.text, "/signout"))
    assert signed_out.status_code == 303
    assert "Max-Age=0" in signed_out.headers["set-cookie"]
    assert "principal" not in follow(pages, signed_out).text


def test_a_post_without_the_sessions_token_is_refused(pages: TestClient) -> None:
    sign_in(pages, "auditor.region")
    answer = pages.post("/signout", data={"csrf_token": "not-this-sessions"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")


def test_only_local_addresses_are_returned_to(pages: TestClient) -> None:
    landed = sign_in(pages, "auditor.region", "//evil.example/")
    assert landed.status_code == 200
    # Back home, which for an auditor is the audit search.
    assert (landed.url.host, landed.url.path) == ("testserver", "/audit/events")


def _age_sessions(session: Session, **changes: timedelta) -> None:
    """Every stored page session as if its times were that much earlier."""
    for row in session.scalars(select(PageSession)):
        for column, by in changes.items():
            setattr(row, column, getattr(row, column) - by)
    session.flush()


@pytest.mark.parametrize(
    "aged",
    [
        {"last_seen_at": timedelta(minutes=31)},
        {
            "signed_in_at": timedelta(hours=10, minutes=1),
            "created_at": timedelta(hours=10, minutes=1),
        },
    ],
    ids=["idle for 31 minutes", "signed in over 10 hours ago"],
)
def test_a_session_ends_after_its_time_outs(
    pages: TestClient, session: Session, aged: dict[str, timedelta]
) -> None:
    sign_in(pages, "counsellor1.laihia", "/worklist")
    assert pages.get("/worklist").status_code == 200
    _age_sessions(session, **aged)
    ended = pages.get("/worklist")
    assert ended.status_code == 303
    assert ended.headers["location"].startswith("/signin")


def test_a_session_in_use_lives_on(pages: TestClient, session: Session) -> None:
    sign_in(pages, "counsellor1.laihia", "/worklist")
    _age_sessions(session, last_seen_at=timedelta(minutes=29))
    assert pages.get("/worklist").status_code == 200
    _age_sessions(session, last_seen_at=timedelta(minutes=29))
    assert pages.get("/worklist").status_code == 200


def test_a_deactivated_account_loses_its_session_at_once(
    pages: TestClient, session: Session
) -> None:
    sign_in(pages, "counsellor1.laihia", "/worklist")
    account = session.scalars(select(User).where(User.username == "counsellor1.laihia")).one()
    account.active = False
    session.flush()
    refused = pages.get("/worklist")
    assert refused.status_code == 401
    assert "Käyttäjätilisi ei voi nyt käyttää Askelta" in refused.text
    assert pages.get("/worklist").headers["location"].startswith("/signin")
