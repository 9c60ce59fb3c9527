"""An auditor in the browser without JavaScript: the log searched (a patient by identity code in
the form's body, never in an address or a title) and the log's status; the same audit entries
as the API's, and every other role refused. The access report's pages are tested beside these
(test_access_report_pages.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2 as httpx
import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import repository, sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction, AuditEvent
from app.kit.clock import today_in_helsinki
from tests.access.test_audit import drop_append_only_guard
from tests.fixtures.factories import Auth
from tests.fixtures.pages import follow, form_for, sign_in
from tests.fixtures.referring import UNKNOWN_HETU, Trail, demo_in, registered

AUDITOR = "auditor.region"
NURSE = "nurse.laihia"
ENTRY_ROW = re.compile(r"<tr>\s*<td>(\d+)</td>")


def entry_numbers(html: str) -> list[int]:
    """The entry numbers of the search's results, in the order shown."""
    return [int(number) for number in ENTRY_ROW.findall(html)]


def search(pages: TestClient, trail: Trail | None = None, **fields: str) -> httpx.Response:
    """The search form posted with `fields`; the page it leads to."""
    trail = trail or Trail()
    page = trail.get(pages, "/audit/events")
    assert page.status_code == 200, page.text
    form = dict.fromkeys(("hetu", "actor", "action", "outcome", "purpose", "start", "end"), "")
    answer = trail.post(pages, "/audit/events", {**form_for(page.text, "/audit/events"), **form,
                                                 **fields})  # fmt: skip
    return trail.follow(pages, answer)


def newest(session: Session) -> AuditEvent:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()  # type: ignore[return-value]


def what(event: AuditEvent) -> tuple[object, ...]:
    """An entry as the API's and the pages' reads must write it alike."""
    return (event.actor, event.action, event.resource_type, event.resource_id, event.patient_id,
            event.outcome, event.purpose)  # fmt: skip


def test_an_auditor_starts_from_the_audit_search(pages: TestClient) -> None:
    page = sign_in(pages, AUDITOR)
    assert page.url.path == "/audit/events"
    assert page.status_code == 200
    assert "<h1>Hae lokitiedoista</h1>" in page.text
    assert 'href="/audit/events" aria-current="page"' in page.text
    assert 'href="/audit/report"' in page.text
    assert 'href="/audit/status"' in page.text
    assert 'href="/patients/find"' not in page.text


def test_a_search_by_identity_code_finds_the_patients_entries_as_the_api_does(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    demo = demo_in("399")
    patient = registered(session, demo)
    client.post("/api/v1/patients/lookup", json={"hetu": demo.hetu}, headers=auth(NURSE))
    client.post("/api/v1/patients/lookup", json={"hetu": demo_in("152").hetu},
                headers=auth("doctor.laihia"))  # fmt: skip
    sign_in(pages, AUDITOR)
    trail = Trail()
    found = search(pages, trail, hetu=demo.hetu)
    assert found.status_code == 200, found.text
    shown = entry_numbers(found.text)
    # The page's own look-up is the newest of the patient's entries; the search comes after.
    expected = session.scalars(
        select(AuditEvent.seq).where(AuditEvent.patient_id == patient.id)
        .order_by(AuditEvent.seq.desc()).limit(51)
    ).all()  # fmt: skip
    assert shown == list(expected[1:51])
    assert f"{patient.family_name}, {patient.given_name}" in found.text
    assert NURSE in found.text
    page_search = newest(session)
    api = client.get(
        "/api/v1/audit/events", params={"patient_id": str(patient.id)}, headers=auth(AUDITOR)
    )
    assert api.status_code == 200
    assert what(newest(session)) == what(page_search)
    assert what(page_search) == (AUDITOR, "query", "AuditLog", None, patient.id, "success",
                                 "audit")  # fmt: skip
    # The look-up by code was audited as the API's look-up is.
    lookup = session.scalars(select(AuditEvent).where(AuditEvent.seq == page_search.seq - 1)).one()
    assert what(lookup) == (AUDITOR, "query", "Patient", str(patient.id), patient.id, "success",
                            "audit")  # fmt: skip
    assert not [address for address in trail.addresses if demo.hetu in address]
    assert demo.hetu not in found.text
    assert demo.hetu not in re.search(r"<title>(.*?)</title>", found.text, re.S).group(1)  # type: ignore[union-attr]


def test_the_filters_narrow_the_search(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    client.post("/api/v1/patients/lookup", json={"hetu": UNKNOWN_HETU},
                headers=auth("doctor.kaskinen"))  # fmt: skip
    sign_in(pages, AUDITOR)
    missed = search(pages, actor="doctor.kaskinen", outcome="not_found")
    numbers = entry_numbers(missed.text)
    assert len(numbers) == 1
    missing = session.get(AuditEvent, numbers[0])
    assert (missing.actor, missing.outcome, missing.resource_type) == (  # type: ignore[union-attr]
        "doctor.kaskinen",
        "not_found",
        "Patient",
    )
    audits = entry_numbers(search(pages, purpose="audit", action="query").text)
    assert audits
    chosen = [session.get_one(AuditEvent, number) for number in audits]
    assert {(event.purpose, event.action) for event in chosen} == {("audit", "query")}
    api = client.get("/api/v1/audit/events", params={"purpose": "care", "limit": 500},
                     headers=auth(AUDITOR)).json()["items"]  # fmt: skip
    assert api
    assert {entry["purpose"] for entry in api} == {"care"}
    today = today_in_helsinki()
    todays = entry_numbers(search(pages, start=today.isoformat(), end=today.isoformat()).text)
    assert todays
    later = search(pages, start=(today + timedelta(days=1)).isoformat())
    assert entry_numbers(later.text) == []
    assert "Haulla ei löytynyt merkintöjä." in later.text


def test_results_page_back_with_a_cursor(pages: TestClient, session: Session) -> None:
    patient = registered(session, demo_in("152"))
    audit.record_many(session, actor=None, action=AuditAction.read, resource_type="Patient",
                      accesses=[(patient.id, patient.id)] * 70)  # fmt: skip
    session.flush()
    sign_in(pages, AUDITOR)
    first = search(pages, hetu=demo_in("152").hetu)
    shown = entry_numbers(first.text)
    assert len(shown) == 50
    older = re.search(r'href="(/audit/events\?cursor=[^"]+)"', first.text)
    assert older is not None
    second = pages.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    rest = entry_numbers(second.text)
    assert rest
    assert not set(rest) & set(shown)
    assert shown + rest == sorted(shown + rest, reverse=True)
    forged = pages.get("/audit/events", params={"cursor": "eyJzIjogMH0="})
    assert forged.status_code == 422


def test_a_search_refused_says_why_beside_each_field(pages: TestClient, session: Session) -> None:
    sign_in(pages, AUDITOR)
    wrong = search(pages, hetu="131052-308X", start="2026-05-02", end="2026-05-01")
    assert wrong.status_code == 422
    assert 'href="#hetu"' in wrong.text
    assert 'href="#end"' in wrong.text
    assert 'id="hetu-error"' in wrong.text
    assert 'id="end-error"' in wrong.text
    unknown = search(pages, hetu=UNKNOWN_HETU)
    assert unknown.status_code == 422
    assert "Tällä henkilötunnuksella ei ole rekisteröity potilasta Askeliin." in unknown.text
    assert UNKNOWN_HETU not in unknown.text.split("<main", 1)[0]
    miss = newest(session)
    assert (miss.actor, miss.action, miss.resource_type, miss.outcome) == (
        AUDITOR,
        "query",
        "Patient",
        "not_found",
    )


def test_the_status_page_shows_the_check_sealing_and_newest_head(
    pages: TestClient, session: Session, connection: Connection
) -> None:
    sealing.seal(session, all_visible=True)
    sign_in(pages, AUDITOR)
    page = pages.get("/audit/status")
    assert page.status_code == 200
    assert "Lokia ei ole tarkistettu tämän istunnon aikana." in page.text
    head = repository.newest_head(session)
    assert head is not None
    assert f"<dd>{head.size}</dd>" in page.text
    assert head.root in page.text
    check = form_for(page.text, "/audit/status/verify")
    checked = follow(pages, pages.post("/audit/status/verify", data=check))
    assert "Loki on eheä." in checked.text
    drop_append_only_guard(connection)
    connection.execute(text("UPDATE audit_events SET actor = 'someone' WHERE seq = 3"))
    broken = follow(pages, pages.post("/audit/status/verify", data=check))
    assert "Loki on rikki." in broken.text
    assert "Merkinnän 3 kohdalla: merkintää on muutettu." in broken.text


OTHERS = ("doctor.laihia", "counsellor1.laihia", "admin.region", "statistician.region")
PAGES = ("/audit/events", "/audit/report", "/audit/status",
         "/audit/patients/00000000-0000-4000-8000-000000000000/access-report",
         "/audit/patients/00000000-0000-4000-8000-000000000000/access-report.pdf")  # fmt: skip
POSTS = ("/audit/events", "/audit/events/clear", "/audit/report", "/audit/status/verify")


@pytest.mark.parametrize("user", OTHERS)
def test_only_auditors_may_use_the_audit_pages(
    pages: TestClient, session: Session, user: str
) -> None:
    home = sign_in(pages, user)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert token is not None
    assert 'href="/audit/' not in home.text
    for path in PAGES:
        refused = pages.get(path)
        assert refused.status_code == 403, path
        assert "Ei sallittu" in refused.text
        last = newest(session)
        assert (last.actor, last.outcome) == (user, "refused"), path
    for path in POSTS:
        data = {"csrf_token": token.group(1), "hetu": demo_in("399").hetu}
        assert pages.post(path, data=data).status_code == 403, path


def test_without_signing_in_the_audit_pages_lead_to_the_sign_in(pages: TestClient) -> None:
    answer = pages.get("/audit/report")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")
