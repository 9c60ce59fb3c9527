"""The details of the auditors' and access administrators' pages that a reader meets first: the
log's results name each entry's patient and record in words (never an identity code or an
internal id), the access report names Askel's own processes as what they are on the page and
in the PDF alike, the log's status page shows a time once, in words, and the access review
says a grant's one reason once and lines its choices up."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import labels, repository, sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction, AuditEvent
from app.access.principal import Principal, Role
from app.config import Settings
from app.demo.region import DEMO_DATA_LOADER, REGION_CODE
from app.fhir_sync.poller import poller_principal
from app.patients.models import Patient
from tests.fixtures.calendar_scene import audit_mark, audit_since
from tests.fixtures.factories import Auth, send_referral
from tests.fixtures.pages import sign_in
from tests.fixtures.referring import Trail, demo_in, registered
from tests.web.test_access_report_pages import open_report
from tests.web.test_audit_pages import AUDITOR, newest, search
from tests.web.test_grant_pages import REVIEW, demo_grant, grant_via_api

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def results(html: str) -> str:
    """The results' table."""
    found = re.search(r'<table class="[^"]*audit-table.*?</table>', html, re.S)
    assert found is not None
    return found.group(0)


def cells(html: str, seq: int) -> list[str]:
    """The cells of the entry's row, as text."""
    row = re.search(rf"<tr>\s*<td>{seq}</td>(.*?)</tr>", html, re.S)
    assert row is not None, seq
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]  # fmt: skip


@pytest.fixture
def patient_reads(connection: Connection) -> Iterator[list[str]]:
    """The statements that read the patients table, as the pages run them."""
    seen: list[str] = []

    def note(*args: object) -> None:
        statement = str(args[2])
        if re.search(r"\bFROM patients\b", statement):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", note)
    yield seen
    event.remove(connection, "before_cursor_execute", note)


def test_the_results_name_the_patients_and_their_records_in_words(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    patient_reads: list[str],
) -> None:
    first, second = (registered(session, demo_in(code)) for code in ("399", "152"))
    for patient in (first, second):
        send_referral(client, auth, patient.id)
    sign_in(pages, AUDITOR)
    patient_reads.clear()
    found = search(pages, actor="doctor.laihia", action="create")
    assert found.status_code == 200, found.text
    table = results(found.text)
    # Names, never the identity code or an internal id; all of the page's read at once.
    assert len(patient_reads) == 1
    for patient in (first, second):
        assert f"{patient.family_name}, {patient.given_name}" in table
    assert UUID.search(table) is None
    assert not [code for code in ("399", "152") if demo_in(code).hetu in found.text]
    referral = session.scalars(
        select(AuditEvent).where(AuditEvent.actor == "doctor.laihia",
                                 AuditEvent.resource_type == "Referral",
                                 AuditEvent.patient_id == first.id)
        .order_by(AuditEvent.seq.desc())
    ).first()  # fmt: skip
    assert referral is not None
    assert referral.resource_id is not None
    _when, who, what, whose, purpose, outcome = cells(table, referral.seq)
    assert what == f"Kirjattu: Lähete Tunniste {referral.resource_id[:8]}\u2026"
    assert whose == f"{first.family_name}, {first.given_name}"
    assert who == "Lääkäri Laihia doctor.laihia Laihia terveysasema"
    assert (purpose, outcome) == ("Terveydenhuolto", "Sallittu")
    # Seven columns, the organisation beside the person.
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table)
    assert headers == ["Merkintä", "Milloin", "Kuka", "Mitä", "Potilas", "Käyttötarkoitus",
                       "Tulokset"]  # fmt: skip
    assert "hds-table--dense" in table


def test_the_names_shown_are_read_as_the_patients_reads_are(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    first, second = (registered(session, demo_in(code)) for code in ("399", "152"))
    for patient in (first, second):
        send_referral(client, auth, patient.id)
    sign_in(pages, AUDITOR)
    mark = audit_mark(session)
    search(pages, actor="doctor.laihia", action="create")
    written = [(e.actor, e.action, e.resource_type, e.resource_id, e.patient_id, e.purpose)
               for e in audit_since(session, mark)]  # fmt: skip
    assert written[0][:3] == (AUDITOR, "query", "AuditLog")
    named = {(AUDITOR, "read", "Patient", str(p.id), p.id, "audit") for p in (first, second)}
    assert named <= set(written[1:])
    assert all(entry[1:3] == ("read", "Patient") for entry in written[1:])
    # The patient searched for is named by the look-up of their code: no read of them again.
    mark = audit_mark(session)
    search(pages, hetu=demo_in("399").hetu)
    kinds = [(e.action, e.resource_type) for e in audit_since(session, mark)]
    looked_up = kinds.index(("query", "Patient"))
    assert kinds[looked_up:] == [("query", "Patient"), ("query", "AuditLog")]


def test_the_patients_own_details_are_not_named_by_id_again(
    pages: TestClient, session: Session
) -> None:
    patient = registered(session, demo_in("399"))
    sign_in(pages, AUDITOR)
    found = search(pages, hetu=demo_in("399").hetu, actor="demo-data")
    table = results(found.text)
    registration = session.scalars(
        select(AuditEvent).where(AuditEvent.actor == "demo-data",
                                 AuditEvent.patient_id == patient.id)
    ).one()  # fmt: skip
    _when, who, what, whose, _purpose, _outcome = cells(table, registration.seq)
    assert what == "Kirjattu: Henkilötiedot"
    assert whose == f"{patient.family_name}, {patient.given_name}"
    assert who == "Esittelyaineisto demo-data Pohjanmaan hyvinvointialue"


def test_askels_own_processes_are_named_as_theirs_in_every_language(
    pages: TestClient, session: Session, settings: Settings
) -> None:
    demo = demo_in("399")
    patient = registered(session, demo)
    patient.language = "sv"
    poller = poller_principal(settings, REGION_CODE)
    stranger = Principal("demo-data", REGION_CODE, frozenset({Role.clinician}), "elsewhere")
    for actor in (poller, stranger):
        audit.record(session, actor=actor, action=AuditAction.read, resource_type="Patient",
                     resource_id=patient.id, patient_id=patient.id)  # fmt: skip
    session.flush()
    sign_in(pages, AUDITOR)
    page = open_report(pages, demo.hetu, Trail())
    assert page.status_code == 200, page.text
    rows = [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr>(.*?)</tr>", page.text.split('id="accesses-heading"')[1]
                                  .split('id="disclosures-heading"')[0], re.S)]  # fmt: skip
    loaded = next(row for row in rows if "Registrerat: Personuppgifter" in row)
    assert ("Demonstrationsdata Exempeluppgifter som lästs in för att prova Askel "
            "Österbottens välfärdsområde Demonstration av tjänsten") in loaded  # fmt: skip
    assert "Användarkontot finns inte" not in loaded
    fetched = [row for row in rows if "Remisser hämtade från områdets patientdatasystem" in row]
    assert len(fetched) == 1
    assert "Askel, automatiskt" in fetched[0]
    assert "Hälso- och sjukvård" in fetched[0]
    # An account of that name with a person's roles is no process: not found, and said so.
    assert sum("Användarkontot finns inte i Askel: demo-data" in row for row in rows) == 1
    link = re.search(r'href="(/audit/patients/[^"]+\.pdf[^"]*)"', page.text)
    assert link is not None
    document = PdfReader(io.BytesIO(pages.get(link.group(1).replace("&amp;", "&")).content))
    words = " ".join(" ".join(sheet.extract_text() for sheet in document.pages).split())
    for said in ("Demonstrationsdata", "Exempeluppgifter som lästs in för att prova Askel",
                 "Demonstration av tjänsten", "Remisser hämtade från områdets patientdatasystem",
                 "Användarkontot finns inte i Askel: demo-data"):  # fmt: skip
        assert said in words, said


def test_the_processes_named_are_the_ones_that_write_the_log(settings: Settings) -> None:
    poller = poller_principal(settings, REGION_CODE)
    assert set(labels.PROCESSES) == {
        (DEMO_DATA_LOADER.subject, DEMO_DATA_LOADER.role_names),
        (poller.subject, poller.role_names),
    }


def test_the_status_page_shows_the_signing_time_in_words_only(
    pages: TestClient, session: Session
) -> None:
    sealing.seal(session, all_visible=True)
    head = repository.newest_head(session)
    assert head is not None
    sign_in(pages, AUDITOR)
    page = pages.get("/audit/status")
    exact = head.signed_at.isoformat()
    shown = re.sub(r"<[^>]+>", " ", page.text)
    assert exact not in shown
    assert re.search(rf'<time datetime="{re.escape(exact)}">\d{{1,2}}\.\d{{1,2}}\.20\d\d '
                     rf"klo \d{{1,2}}\.\d\d</time>", page.text)  # fmt: skip


def _fieldset(html: str, grant_id: object) -> str:
    found = re.search(rf'<fieldset[^>]*id="decision-{grant_id}".*?</fieldset>', html, re.S)
    assert found is not None
    return found.group(0)


def test_a_grant_awaiting_attestation_is_said_so_once(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    waiting = grant_via_api(client, auth, session, "counsellor1.kaskinen")
    used = demo_grant(session, "counsellor2.kaskinen").id
    review = sign_in(pages, "admin.kaskinen", REVIEW)
    assert review.status_code == 200
    unattested = _fieldset(review.text, waiting)
    assert unattested.count("Ei vahvistettu") == 1
    assert "Odottaa vahvistusta" not in unattested
    assert unattested.count('class="hds-status-label') == 1
    # A status that says more than the reasons is still shown.
    attested = _fieldset(review.text, used)
    assert "Ei käytetty 90 päivään" in attested
    assert "<dt>Tila</dt>" in attested
    assert "Voimassa" in attested


def test_the_reviews_choices_sit_on_one_line(pages: TestClient) -> None:
    # HDS lowers every radio button after the first; a row of them must not be.
    css = pages.get("/static/askel.css").text
    rule = re.search(
        r"\.review-grant \.hds-selection-group__items--horizontal \.hds-radio-button\s*\{([^}]*)\}",
        css,
    )
    assert rule is not None
    assert "margin-top: 0" in rule.group(1)


def test_a_patient_no_longer_registered_is_shown_by_a_short_id(
    pages: TestClient, session: Session
) -> None:
    missing = uuid.UUID("00000000-0000-4000-8000-00000000abcd")
    assert session.get(Patient, missing) is None
    audit.record(session, actor=None, action=AuditAction.read, resource_type="Patient",
                 resource_id=missing, patient_id=missing)  # fmt: skip
    session.flush()
    entry = newest(session)
    sign_in(pages, AUDITOR)
    table = results(search(pages, action="read").text)
    _when, who, what, whose, _purpose, _outcome = cells(table, entry.seq)
    assert (who, what, whose) == ("Askel, automaattisesti", "Katsottu: Henkilötiedot",
                                  "00000000\u2026")  # fmt: skip
