"""The worklist and a referral's page, as a counsellor works them in a browser without
JavaScript: the same services, the same audit entries, the same refusals as the API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.referrals.models import Referral
from tests.fixtures.factories import Auth, demo_patient, send_referral
from tests.fixtures.pages import follow, form_for, sign_in

COUNSELLOR = "counsellor1.laihia"
OTHER_COUNSELLOR = "counsellor1.kaskinen"
REJECT_REASON = "not_eligible"


@pytest.fixture
def referral(pages: TestClient, auth: Auth, session: Session) -> dict[str, Any]:
    return send_referral(pages, auth, demo_patient(session, "399").id)


def audit_entries(session: Session, referral_id: str) -> list[tuple[str, str]]:
    statement = (
        select(AuditEvent.action, AuditEvent.outcome)
        .where(AuditEvent.resource_id == referral_id)
        .order_by(AuditEvent.seq)
    )
    return [(action, outcome) for action, outcome in session.execute(statement).all()]


def test_the_worklist_shows_a_new_referral_first_and_audits_what_it_shows(
    pages: TestClient, referral: dict[str, Any], session: Session
) -> None:
    page = sign_in(pages, COUNSELLOR, "/worklist")
    assert page.status_code == 200
    assert f'href="/referrals/{referral["id"]}"' in page.text
    assert page.text.index("Uudet lähetteet") < page.text.index(referral["id"])
    assert ("query", "success") in audit_entries(session, referral["id"])


def test_a_counsellor_lands_on_the_worklist(pages: TestClient) -> None:
    landed = sign_in(pages, COUNSELLOR)
    assert landed.url.path == "/worklist"


def test_opening_a_referral_receives_it_and_reads_it_as_the_api_does(
    pages: TestClient, referral: dict[str, Any], session: Session
) -> None:
    page = sign_in(pages, COUNSELLOR, f"/referrals/{referral['id']}")
    assert page.status_code == 200
    status = session.scalar(select(Referral.status).where(Referral.id == uuid.UUID(referral["id"])))
    assert status == "received"
    assert "131052" not in page.text  # no identity code on the page
    assert ("read", "success") in audit_entries(session, referral["id"])


def test_accept_then_start_through_the_forms(
    pages: TestClient, referral: dict[str, Any], session: Session
) -> None:
    path = f"/referrals/{referral['id']}"
    page = sign_in(pages, COUNSELLOR, path)
    accepted = pages.post(
        f"{path}/actions/accept", data=form_for(page.text, f"{path}/actions/accept")
    )
    assert accepted.status_code == 303
    page = follow(pages, accepted)
    assert "Lähete hyväksyttiin." in page.text
    started = pages.post(f"{path}/actions/start", data=form_for(page.text, f"{path}/actions/start"))
    assert started.status_code == 303
    status = session.scalar(select(Referral.status).where(Referral.id == uuid.UUID(referral["id"])))
    assert status == "in_progress"
    assert ("accept", "success") in audit_entries(session, referral["id"])
    assert ("start", "success") in audit_entries(session, referral["id"])


def test_a_rejection_without_a_reason_keeps_what_was_typed(
    pages: TestClient, referral: dict[str, Any]
) -> None:
    path = f"/referrals/{referral['id']}"
    page = sign_in(pages, COUNSELLOR, path)
    fields = form_for(page.text, f"{path}/actions/reject")
    refused = pages.post(
        f"{path}/actions/reject", data={**fields, "reason_text": "Fysioterapia ensin."}
    )
    assert refused.status_code == 422
    assert "Fysioterapia ensin." in refused.text
    assert 'href="#reject-reason_code"' in refused.text
    assert 'id="reject-reason_code-error"' in refused.text


def test_a_stale_version_is_explained_and_the_typed_text_kept(
    pages: TestClient, referral: dict[str, Any], session: Session
) -> None:
    path = f"/referrals/{referral['id']}"
    page = sign_in(pages, COUNSELLOR, path)
    fields = form_for(page.text, f"{path}/actions/reject")
    # A colleague accepts it meanwhile.
    accepted = pages.post(
        f"{path}/actions/accept", data=form_for(page.text, f"{path}/actions/accept")
    )
    assert accepted.status_code == 303
    follow(pages, accepted)
    refused = pages.post(
        f"{path}/actions/reject",
        data={**fields, "reason_code": REJECT_REASON, "reason_text": "Ei sovi nyt."},
    )
    assert refused.status_code in (409, 412)
    assert "Ei sovi nyt." in refused.text
    assert ("reject", "conflict") in audit_entries(session, referral["id"])


@pytest.mark.parametrize(
    "address",
    ["/referrals/{id}", "/referrals/{id}/actions/accept"],
)
def test_a_counsellor_of_another_service_finds_nothing(
    pages: TestClient, referral: dict[str, Any], session: Session, address: str
) -> None:
    home = sign_in(pages, OTHER_COUNSELLOR)
    path = address.format(id=referral["id"])
    if path.endswith("accept"):
        answer = pages.post(path, data=form_for(home.text, "/signout"))
    else:
        answer = pages.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Ei löytynyt" in answer.text
    assert audit_entries(session, referral["id"])[-1][1] == "not_found"


def test_an_unknown_referral_is_the_same_not_found(pages: TestClient) -> None:
    home = sign_in(pages, OTHER_COUNSELLOR)
    assert home.status_code == 200
    unknown = pages.get("/referrals/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert pages.get("/referrals/not-an-id").status_code == 404


def test_pages_need_a_signed_in_session(pages: TestClient, referral: dict[str, Any]) -> None:
    answer = pages.get(f"/referrals/{referral['id']}")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=")


def test_the_page_speaks_swedish_when_chosen(pages: TestClient, referral: dict[str, Any]) -> None:
    page = sign_in(pages, COUNSELLOR, "/worklist")
    chosen = pages.post("/language", data={**form_for(page.text, "/language"), "language": "sv"})
    assert chosen.status_code == 303
    page = follow(pages, chosen)
    assert 'lang="sv"' in page.text
    assert "Arbetslista" in page.text
