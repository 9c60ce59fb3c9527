"""A clinician refers the current patient: the form, "check your answers" with a way back to
each answer, and the send, which is the API's (the same routing, audit entries and refusals);
a second press of the button sends nothing twice; and the list of what they and their unit
sent. The identity code stands in no address of the flow."""

from __future__ import annotations

import copy
import re
import uuid
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import today_in_helsinki
from app.referrals import sending_pages
from app.referrals.models import Referral
from app.referrals.sending_pages import DRAFT
from app.web.models import PageSession
from app.web.templating import finnish_date
from tests.fixtures.factories import Auth, send_referral
from tests.fixtures.pages import follow, form_for, sign_in
from tests.fixtures.referring import (
    CLINICIAN,
    UNKNOWN_HETU,
    Trail,
    audit_of,
    demo_in,
    find,
    referral_form,
    registered,
)

OTHER_CLINICIAN = "doctor.isokyro"
COLLEAGUE = "nurse.laihia"


def referrals_of(session: Session, patient_id: uuid.UUID) -> list[Referral]:
    statement = select(Referral).where(Referral.patient_id == patient_id)
    return list(session.scalars(statement.order_by(Referral.created_at)).all())


def with_patient(pages: TestClient, hetu: str, trail: Trail) -> None:
    sign_in(pages, CLINICIAN)
    found = find(pages, hetu, trail)
    assert found.status_code == 303


def fill_in(pages: TestClient, trail: Trail, **overrides: str) -> Any:
    """The form opened and posted with the answers; the answer as it came."""
    form = trail.get(pages, "/patient/referral")
    assert form.status_code == 200, form.text
    token = form_for(form.text, "/patient/referral")["csrf_token"]
    return trail.post(
        pages, "/patient/referral", {**referral_form(**overrides), "csrf_token": token}
    )


def test_form_check_change_check_send_makes_one_referral_with_the_apis_audit(
    pages: TestClient, session: Session, auth: Auth
) -> None:
    known = demo_in("399")
    patient = registered(session, known)
    trail = Trail()
    with_patient(pages, known.hetu, trail)
    posted = fill_in(pages, trail)
    assert posted.status_code == 303
    assert posted.headers["location"] == "/patient/referral/check"
    check = trail.follow(pages, posted)
    assert "E11.9 (ICD-10)" in check.text
    assert "Aikuistyypin diabetes ilman komplikaatioita" in check.text
    assert "T90 (ICPC-2)" in check.text
    assert "Ei raskasta kuormitusta polville." in check.text
    assert "Laihia liikuntaneuvonta" in check.text  # where the referral will be routed
    assert 'href="/patient/referral#goal"' in check.text
    # Change the goal: the form has every answer kept.
    form = trail.get(pages, "/patient/referral")
    assert "150 minuuttia reipasta liikuntaa viikossa." in form.text
    assert 'value="icd10:E11.9" checked' in form.text
    assert 'value="T90"' in form.text
    changed = fill_in(pages, trail, goal="Kävely kolmesti viikossa.", urgency="urgent")
    check = trail.follow(pages, changed)
    assert "Kävely kolmesti viikossa." in check.text
    assert "Kiireellinen" in check.text
    fields = form_for(check.text, "/patient/referral/send")
    sent = trail.post(pages, "/patient/referral/send", fields)
    assert sent.status_code == 303
    [referral] = referrals_of(session, patient.id)
    assert sent.headers["location"] == f"/referrals/{referral.id}/book"
    assert referral.goal == "Kävely kolmesti viikossa."
    assert referral.urgency == "urgent"
    assert [code["code"] for code in referral.reason_codes] == ["E11.9", "T90"]
    # The second press of the same button: the first referral again, no twin.
    again = trail.post(pages, "/patient/referral/send", fields)
    assert again.status_code == 303
    assert again.headers["location"] == sent.headers["location"]
    assert len(referrals_of(session, patient.id)) == 1
    # The same audit entries as a referral sent through the API.
    through_api = send_referral(pages, auth, patient.id)
    assert audit_of(session, str(referral.id)) == audit_of(session, through_api["id"])
    assert audit_of(session, str(referral.id)) == [("create", "success")]
    assert not [address for address in trail.addresses if known.hetu in address]


def test_a_double_send_before_the_session_knows_of_the_first_makes_no_twin(
    pages: TestClient, session: Session
) -> None:
    known = demo_in("399")
    trail = Trail()
    with_patient(pages, known.hetu, trail)
    check = trail.follow(pages, fill_in(pages, trail))
    fields = form_for(check.text, "/patient/referral/send")
    # The twin was posted while the first was being sent: its session still held the draft.
    [stored] = [row for row in session.scalars(select(PageSession)) if DRAFT in row.data]
    before = copy.deepcopy(stored.data)
    first = pages.post("/patient/referral/send", data=fields)
    assert first.status_code == 303
    session.refresh(stored)
    assert DRAFT not in stored.data
    stored.data = before
    session.flush()
    second = pages.post("/patient/referral/send", data=fields)
    assert second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    [referral] = referrals_of(session, registered(session, known).id)
    # The twin is answered as the API answers a retry: with the first referral, read again.
    assert audit_of(session, str(referral.id)) == [("create", "success"), ("read", "success")]


def test_when_the_service_books_the_referral_page_says_by_when(
    pages: TestClient, session: Session
) -> None:
    known = demo_in("399")
    trail = Trail()
    with_patient(pages, known.hetu, trail)
    check = trail.follow(pages, fill_in(pages, trail, book_by_service="true"))
    assert "Liikuntaneuvonta varaa ajan ja ottaa yhteyttä potilaaseen" in check.text
    sent = trail.post(
        pages, "/patient/referral/send", form_for(check.text, "/patient/referral/send")
    )
    [referral] = referrals_of(session, registered(session, known).id)
    assert sent.headers["location"] == f"/referrals/{referral.id}"
    assert referral.booking_by_service
    assert referral.expected_contact_by is not None
    assert referral.expected_contact_by > today_in_helsinki()
    page = trail.follow(pages, sent)
    day = finnish_date(referral.expected_contact_by)
    assert f"ottaa yhteyttä potilaaseen viimeistään {day}" in page.text
    assert 'href="/referrals/sent">Takaisin lähetettyihin lähetteisiin' in page.text
    assert not [address for address in trail.addresses if known.hetu in address]


def test_the_apis_messages_are_beside_the_fields(pages: TestClient) -> None:
    trail = Trail()
    with_patient(pages, demo_in("399").hetu, trail)
    refused = fill_in(
        pages,
        trail,
        common=[],  # type: ignore[arg-type]
        goal="",
        consent_to_counselling="",
        **{"reason_codes.0.code": "", "reason_codes.1.code": "E1"},
    )
    assert refused.status_code == 422
    text = refused.text
    assert 'class="hds-notification hds-notification--error error-summary"' in text
    for anchor in ("goal", "reason_codes-1-code", "consent_to_counselling"):
        assert f'href="#{anchor}"' in text
        assert f'id="{anchor}-error"' in text
    assert "Koodi ei ole muodoltaan kelvollinen icd10-koodi" in text
    assert "Lähettäminen edellyttää potilaan suostumusta liikuntaneuvontaan." in text
    assert "Tyypin 2 diabetes, liikunta vähäistä." in text  # what was typed is kept
    # Nothing is kept as a draft: the check page sends back to the form.
    check = pages.get("/patient/referral/check")
    assert check.status_code == 303
    assert check.headers["location"] == "/patient/referral"


def test_no_reason_at_all_is_said_at_the_reasons(pages: TestClient) -> None:
    trail = Trail()
    with_patient(pages, demo_in("399").hetu, trail)
    refused = fill_in(pages, trail, common=[], **{"reason_codes.0.code": ""})  # type: ignore[arg-type]
    assert refused.status_code == 422
    assert 'href="#reason_codes"' in refused.text
    assert 'id="reason_codes-error"' in refused.text


def test_a_refusal_of_the_service_comes_back_on_the_form(
    pages: TestClient, session: Session, auth: Auth
) -> None:
    # A patient living where no counselling service serves.
    registration = {"hetu": UNKNOWN_HETU, "given_name": "Selma", "family_name": "Testinen",
                    "home_municipality_code": "091", "language": "fi"}  # fmt: skip
    created = pages.post("/api/v1/patients", json=registration, headers=auth(CLINICIAN))
    assert created.status_code == 201, created.text
    trail = Trail()
    with_patient(pages, UNKNOWN_HETU, trail)
    check = trail.follow(pages, fill_in(pages, trail))
    assert check.status_code == 200
    refused = trail.post(
        pages, "/patient/referral/send", form_for(check.text, "/patient/referral/send")
    )
    assert refused.status_code == 422
    assert "Mikään liikuntaneuvontapalvelu ei palvele potilaan kotikuntaa 091." in refused.text
    assert 'action="/patient/referral"' in refused.text
    assert referrals_of(session, uuid.UUID(created.json()["id"])) == []
    assert not [address for address in trail.addresses if UNKNOWN_HETU in address]


def test_the_sent_list_is_the_clinicians_and_their_units_newest_first(
    pages: TestClient, session: Session, auth: Auth
) -> None:
    patient = registered(session, demo_in("399"))
    older = send_referral(pages, auth, patient.id, sender=COLLEAGUE)
    newer = send_referral(pages, auth, patient.id)
    page = sign_in(pages, CLINICIAN, "/referrals/sent")
    assert page.status_code == 200
    assert page.text.index(newer["id"]) < page.text.index(older["id"])
    assert "Laihia liikuntaneuvonta" in page.text
    assert ("query", "success") in audit_of(session, older["id"])
    pages.cookies.clear()
    other = sign_in(pages, OTHER_CLINICIAN, "/referrals/sent")
    assert other.status_code == 200
    assert newer["id"] not in other.text
    assert pages.get(f"/referrals/{newer['id']}").status_code == 404
    assert audit_of(session, newer["id"])[-1] == ("read", "not_found")


def test_the_sent_list_pages_and_filters(
    pages: TestClient, session: Session, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending_pages, "SENT_SHOWN", 2)
    patient = registered(session, demo_in("399"))
    sent = [send_referral(pages, auth, patient.id)["id"] for _ in range(3)]
    page = sign_in(pages, CLINICIAN, "/referrals/sent?status=sent")
    assert [referral in page.text for referral in sent] == [False, True, True]
    older = form_links(page.text, "/referrals/sent?")
    assert len(older) == 1
    assert "status=sent" in older[0]
    page = pages.get(older[0])
    assert sent[0] in page.text
    assert not [referral for referral in sent[1:] if referral in page.text]
    completed = pages.get("/referrals/sent?status=completed")
    assert not [referral for referral in sent if referral in completed.text]
    assert pages.get("/referrals/sent?cursor=forged").status_code == 422


def form_links(html: str, start: str) -> list[str]:
    return [
        unescape(link) for link in re.findall(r'href="([^"]+)"', html) if link.startswith(start)
    ]


FINNISH = ("Lähetä liikuntaneuvontaan", "Tarkista lähete ennen lähettämistä", "Lähetetyt lähetteet")
SWEDISH = ("Remittera till motionsrådgivning", "Kontrollera remissen innan du skickar den",
           "Skickade remisser")  # fmt: skip


@pytest.mark.parametrize(("language", "texts"), [("fi", FINNISH), ("sv", SWEDISH)])
def test_the_referral_pages_speak_finnish_and_swedish(
    pages: TestClient, language: str, texts: tuple[str, str, str]
) -> None:
    trail = Trail()
    with_patient(pages, demo_in("399").hetu, trail)
    patient_page = pages.get("/patient")
    chosen = pages.post(
        "/language", data={**form_for(patient_page.text, "/language"), "language": language}
    )
    page = follow(pages, chosen)
    assert f'lang="{language}"' in page.text
    form = pages.get("/patient/referral")
    assert texts[0] in form.text
    assert f'lang="{language}"' in form.text
    check = trail.follow(pages, fill_in(pages, trail))
    assert texts[1] in check.text
    sent_list = pages.get("/referrals/sent")
    assert texts[2] in sent_list.text


def test_nothing_to_check_or_send_without_a_draft(pages: TestClient, session: Session) -> None:
    trail = Trail()
    with_patient(pages, demo_in("399").hetu, trail)
    check = pages.get("/patient/referral/check")
    assert check.headers["location"] == "/patient/referral"
    form = pages.get("/patient/referral")
    token = form_for(form.text, "/patient/referral")["csrf_token"]
    before = session.scalar(select(func.count()).select_from(Referral))
    stray = pages.post("/patient/referral/send", data={"csrf_token": token, "draft": "x"})
    assert stray.status_code == 303
    assert stray.headers["location"] == "/patient/referral"
    assert session.scalar(select(func.count()).select_from(Referral)) == before
