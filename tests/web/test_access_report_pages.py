"""A patient's access report in the browser: in the patient's language as a page to print and
as a PDF whose names print as written and whose proofs verify against the signed head; read
with the same audit entry as the API's report."""

from __future__ import annotations

import io
import re
import uuid

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import merkle, sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction, AuditEvent
from app.access.models import User
from app.patients.models import Patient
from tests.fixtures.factories import Auth, send_referral
from tests.fixtures.pages import form_for, sign_in
from tests.fixtures.referring import Trail, demo_in, registered
from tests.web.test_audit_pages import AUDITOR, NURSE, newest, what

# A name no PDF standard font can show: the report's font must.
NURSE_NAME = "Åsa Čukić-Łęska"


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
