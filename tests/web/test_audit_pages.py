"""An auditor in the browser without JavaScript: the log searched (a patient by identity code in
the form's body, never in an address or a title), a patient's access report in the patient's
language as a page and as a PDF whose proofs verify against the signed head, and the log's
status; the same audit entries as the API's, and every other role refused."""

from __future__ import annotations

import ast
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import merkle, repository, sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction, AuditEvent
from app.access.models import User
from app.i18n import catalog
from app.kit.clock import today_in_helsinki
from app.patients.models import Patient
from tests.access.test_audit import drop_append_only_guard
from tests.fixtures.factories import Auth, send_referral
from tests.fixtures.pages import follow, form_for, sign_in
from tests.fixtures.referring import UNKNOWN_HETU, Trail, demo_in, registered

AUDITOR = "auditor.region"
NURSE = "nurse.laihia"
# A name no PDF standard font can show: the report's font must.
NURSE_NAME = "Åsa Čukić-Łęska"
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


def _accesses(
    client: TestClient, auth: Auth, session: Session, patient: Patient, hetu: str
) -> None:
    """The nurse (renamed) looks the patient up, a doctor refers them, a counsellor of another
    service is refused the referral, and a text message is handed to the gateway; all of it
    sealed under a signed head."""
    nurse = session.scalars(select(User).where(User.username == NURSE)).one()
    nurse.display_name = NURSE_NAME
    session.flush()
    client.post("/api/v1/patients/lookup", json={"hetu": hetu}, headers=auth(NURSE))
    referral = send_referral(client, auth, patient.id)
    address = f"/api/v1/referrals/{referral['id']}"
    refused = client.get(address, headers=auth("counsellor1.kaskinen"))
    assert refused.status_code == 404
    audit.record(session, actor=None, action=AuditAction.disclose, resource_type="Notice",
                 resource_id="1", patient_id=patient.id, recipient="SMS gateway")  # fmt: skip
    session.flush()
    sealing.seal(session, all_visible=True)


# By language: the title, the nurse's title, her unit, a time of day, a disclosure, a refusal.
REPORT = {
    "fi": ("Kuka on käsitellyt tietojani", "Sairaanhoitaja", "Laihia terveysasema",
           r"klo \d{1,2}\.\d\d", "Luovutettu", "Estetty: ei löytynyt"),
    "sv": ("Vem har behandlat mina uppgifter", "Sjukskötare", "Laihela hälsostation",
           r"kl\. \d{1,2}\.\d\d", "Utlämnat", "Nekat: hittades inte"),
    "en": ("Who has processed my data", "Nurse", "Laihia terveysasema", r"\d{1,2}:\d\d",
           "Disclosed", "Refused: not found"),
}  # fmt: skip


def open_report(pages: TestClient, hetu: str, trail: Trail, **fields: str) -> httpx.Response:
    form = trail.get(pages, "/audit/report")
    assert form.status_code == 200
    sent = trail.post(pages, "/audit/report",
                      {**form_for(form.text, "/audit/report"), "hetu": hetu, **fields})  # fmt: skip
    assert sent.status_code == 303, sent.text
    return trail.follow(pages, sent)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_report_is_written_in_the_patients_language(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, language: str
) -> None:
    demo = demo_in("399")
    patient = registered(session, demo)
    patient.language = language
    _accesses(client, auth, session, patient, demo.hetu)
    sign_in(pages, AUDITOR)
    trail = Trail()
    report = open_report(pages, demo.hetu, trail, language="fi")
    assert report.status_code == 200, report.text
    title, nurse, station, clock, disclosed, refused = REPORT[language]
    assert f'<html lang="{language}">' in report.text
    assert report.headers["content-language"] == language
    assert f"<h1>{title}</h1>" in report.text
    assert f"{patient.given_name} {patient.family_name}" in report.text
    assert NURSE_NAME in report.text
    assert nurse in report.text
    assert station in report.text
    assert re.search(rf"<td[^>]*>\d{{1,2}}\.\d{{1,2}}\.20\d\d {clock}</td>", report.text)
    assert f"{disclosed}: " in report.text
    assert "SMS gateway" in report.text
    assert refused in report.text
    assert NURSE not in report.text  # names, never account names
    assert "masthead__nav" not in report.text
    assert not [address for address in trail.addresses if demo.hetu in address]
    assert demo.hetu not in report.text


def test_a_patient_of_another_language_gets_the_report_in_the_one_chosen(
    pages: TestClient, session: Session
) -> None:
    demo = demo_in("399")
    registered(session, demo).language = "so"
    session.flush()
    sign_in(pages, AUDITOR)
    report = open_report(pages, demo.hetu, Trail(), language="en")
    assert '<html lang="en">' in report.text
    assert "<h1>Who has processed my data</h1>" in report.text


def test_reading_the_report_is_audited_exactly_as_the_apis_read(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    patient = registered(session, demo_in("399"))
    sign_in(pages, AUDITOR)
    address = f"/audit/patients/{patient.id}/access-report"
    for path in (address, f"{address}.pdf"):
        before = newest(session).seq
        assert pages.get(path).status_code == 200
        written = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
        assert [what(event) for event in written] == [
            (AUDITOR, "read", "AccessReport", str(patient.id), patient.id, "success", "audit")
        ]
    client.get(f"/api/v1/audit/patients/{patient.id}/access-report", headers=auth(AUDITOR))
    assert what(newest(session)) == what(written[0])
    assert pages.get(f"/audit/patients/{uuid.uuid4()}/access-report").status_code == 404


def test_the_pdf_holds_the_names_and_times(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    demo = demo_in("399")
    patient = registered(session, demo)
    patient.language = "sv"
    _accesses(client, auth, session, patient, demo.hetu)
    sign_in(pages, AUDITOR)
    page = open_report(pages, demo.hetu, Trail())
    link = re.search(r'href="(/audit/patients/[^"]+\.pdf[^"]*)"', page.text)
    assert link is not None
    answer = pages.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    assert demo.hetu.encode() not in answer.content
    document = PdfReader(io.BytesIO(answer.content))
    # Cells wrap: their words are compared with the lines joined.
    words = " ".join(" ".join(sheet.extract_text() for sheet in document.pages).split())
    assert "Vem har behandlat mina uppgifter" in words
    assert f"{patient.given_name} {patient.family_name}" in words
    assert NURSE_NAME in words
    assert "Sjukskötare" in words
    assert "Laihela hälsostation" in words
    times = re.findall(r"\d{1,2}\.\d{1,2}\.20\d\d kl\. \d{1,2}\.\d\d", page.text)
    assert times
    assert all(moment in words for moment in times)
    fonts = {str(font.get_object()["/BaseFont"]) for sheet in document.pages
             for font in sheet["/Resources"]["/Font"].values()}  # fmt: skip
    assert {font.split("+")[-1].lstrip("/") for font in fonts} >= {"DejaVuSans", "DejaVuSans-Bold"}


def _head(html: str, name: str) -> str:
    found = re.search(rf'data-head="{name}">([^<]+)<', html)
    assert found is not None, name
    return found.group(1)


def test_each_entrys_proof_verifies_against_the_signed_head(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    demo = demo_in("399")
    patient = registered(session, demo)
    _accesses(client, auth, session, patient, demo.hetu)
    sign_in(pages, AUDITOR)
    page = open_report(pages, demo.hetu, Trail()).text
    size, root = int(_head(page, "size")), bytes.fromhex(_head(page, "root"))
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(_head(page, "public_key")))
    message = f"askel audit tree head v1\n{size}\n{root.hex()}\n{_head(page, 'signed_at')}\n"
    public.verify(bytes.fromhex(_head(page, "signature")), message.encode())
    rows = re.findall(
        r'<tr data-entry="(\d+)">.*?data-proof="position">(\d+)<.*?data-proof="leaf">([0-9a-f]+)<'
        r'.*?<ol class="access-report__path">(.*?)</ol>', page, re.S)  # fmt: skip
    assert len(rows) >= 3
    for seq, position, leaf, path in rows:
        event = session.get_one(AuditEvent, int(seq))
        assert event.patient_id == patient.id
        assert leaf == merkle.leaf_hash(sealing.entry_bytes(event)).hex()
        hashes = [bytes.fromhex(value) for value in re.findall(r"<code>([0-9a-f]+)</code>", path)]
        assert merkle.verify_inclusion(int(position), size, bytes.fromhex(leaf), hashes, root)


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


def test_every_text_of_the_audit_modules_is_translated() -> None:
    # Nested below its domain, the audit pages' modules are beyond test_page_texts' reach.
    modules = Path(__file__).resolve().parents[2] / "app" / "access" / "audit"
    texts = {
        str(call.args[0].value)
        for path in modules.glob("*.py")
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
        and call.func.id == "N_" and call.args and isinstance(call.args[0], ast.Constant)
    }  # fmt: skip
    assert len(texts) > 50
    missing = sorted((lang, t) for t in texts for lang in ("fi", "sv") if t not in catalog(lang))
    assert missing == []
