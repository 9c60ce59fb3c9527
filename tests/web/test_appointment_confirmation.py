"""An appointment's confirmation for the patient: in the patient's language whatever the page's,
when (Finnish dates, Helsinki time), where, with whom and how to cancel or move it from the
service's own data, printable without script; read as the API reads the appointment."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.i18n import Language
from app.kit.clock import HELSINKI, today_in_helsinki
from app.patients.models import Patient
from app.patients.protection import unseal
from app.scheduling.page_parts import time_span
from app.web.templating import finnish_date
from tests.fixtures.calendar_scene import (
    COUNSELLOR,
    KASKINEN,
    REFERRER,
    Auth,
    audit_mark,
    audited,
    free_slots,
    slot_ids,
    user_id,
    weekly_rules,
)
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.pages import follow, form_for, sign_in

# Kaskinen's service as the demo's organisations data describes it.
PLACE = "Kaskinen liikuntahalli"
# Kaskinen is bilingual: the sheet names the place in Swedish for a Swedish speaker.
PLACES = {"fi": PLACE, "sv": "Kaskö idrottshall", "en": PLACE}
ADDRESS = "Urheilutie 1, 64260 Kaskinen"
ADDRESSES = {"fi": ADDRESS, "sv": "Idrottsvägen 1, 64260 Kaskö", "en": ADDRESS}
PHONE = "+358400000231"
HEADINGS = {
    "fi": "Aikasi liikuntaneuvontaan",
    "sv": "Din tid för motionsrådgivning",
    "en": "Your appointment for physical activity counselling",
}
SERVICE_NAMES = {
    "fi": "Kaskinen liikuntaneuvonta",
    "sv": "Kaskö motionsrådgivning",
    "en": "Kaskinen liikuntaneuvonta",
}
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


@pytest.fixture
def calendar(client: TestClient, auth: Auth, session: Session) -> uuid.UUID:
    """Kaskinen's counsellor's weekly times, at the place the service's data names."""
    counsellor = user_id(session, COUNSELLOR)
    rules = weekly_rules(today_in_helsinki() - timedelta(days=1), location=PLACE)
    answer = client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": rules, "exceptions": []},
        headers=auth(COUNSELLOR),
    )
    assert answer.status_code == 200, answer.text
    return counsellor


def patient_speaking(session: Session, language: str, index: int = 0) -> Patient:
    patient = demo_patient(session, KASKINEN, index)
    patient.language = language
    session.flush()
    return patient


def booked(
    client: TestClient, auth: Auth, patient: Patient, mode: str = "in_person"
) -> dict[str, Any]:
    """A referral of the patient, always preferring Finnish, and its soonest first visit
    booked by the referrer through the API."""
    referral = send_referral(client, auth, patient.id, sender=REFERRER, preferred_language="fi")
    slot = free_slots(client, auth, referral["service_id"], visit_type="first_visit")[0]
    answer = client.post(
        "/api/v1/appointments",
        json={"slot_id": slot["id"], "referral_id": referral["id"], "mode": mode},
        headers=auth(REFERRER),
    )
    assert answer.status_code == 201, answer.text
    appointment: dict[str, Any] = answer.json()
    return appointment


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_confirmation_is_in_the_patients_language_whatever_the_pages(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    language: Language,
) -> None:
    patient = patient_speaking(session, language)
    appointment = booked(client, auth, patient)
    sign_in(pages, REFERRER)
    pages.headers["Accept-Language"] = "fi"
    shown = pages.get(f"/appointments/{appointment['id']}/confirmation")
    assert shown.status_code == 200
    assert shown.headers["content-language"] == language
    text = shown.text
    assert f'<html lang="{language}">' in text
    assert f"<h1>{HEADINGS[language]}</h1>" in text
    assert f"{patient.given_name} {patient.family_name}" in text

    start = datetime.fromisoformat(appointment["start_at"])
    end = datetime.fromisoformat(appointment["end_at"])
    day = format_date(start.astimezone(HELSINKI).date(), "EEEE", locale=language).capitalize()
    span = time_span(start, end, language)
    assert f"{day} {finnish_date(start)} {span}" in text
    prefix = {"fi": "klo ", "sv": "kl. ", "en": ""}[language]
    assert span.startswith(prefix)
    assert f"{start.astimezone(HELSINKI).day}.{start.astimezone(HELSINKI).month}." in text

    assert f"{PLACES[language]}, {ADDRESSES[language]}" in text
    assert f'<a href="tel:{PHONE}">{PHONE}</a>' in text
    assert SERVICE_NAMES[language] in text
    assert "Liikuntaneuvoja 1 Kaskinen" in text
    # The lines around the sheet are in the reader's language, and say whose the sheet's is.
    assert '<div class="printed-plan__screen-only" lang="fi">' in text
    assert f"Vahvistus on potilaan kielellä: {LANGUAGE_NAMES[language]}." in text
    assert unseal(patient.hetu_ciphertext, patient.id) not in text
    assert '<link rel="stylesheet" href="/static/plan-print.css">' in text
    assert "<script" not in text
    assert "style=" not in text


def test_reading_the_confirmation_is_the_apis_read_of_the_appointment(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    appointment = booked(client, auth, patient_speaking(session, "fi"))
    names = {appointment["id"]: "appointment"}
    mark = audit_mark(session)
    answer = client.get(f"/api/v1/appointments/{appointment['id']}", headers=auth(REFERRER))
    assert answer.status_code == 200
    api_entries = audited(session, mark, names)
    assert api_entries == [("read", "Appointment", "success", "appointment")]

    sign_in(pages, REFERRER)
    mark = audit_mark(session)
    assert pages.get(f"/appointments/{appointment['id']}/confirmation").status_code == 200
    assert audited(session, mark, names) == api_entries


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("phone", "Puhelimitse: liikuntaneuvoja soittaa sinulle sovittuna aikana."),
        ("in_person", f"Käynti paikan päällä: {PLACE}, {ADDRESS}"),
    ],
)
def test_the_confirmation_says_how_the_patient_meets_the_counsellor(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    mode: str,
    said: str,
) -> None:
    appointment = booked(client, auth, patient_speaking(session, "fi"), mode=mode)
    sign_in(pages, REFERRER)
    text = pages.get(f"/appointments/{appointment['id']}/confirmation").text
    assert said in text
    assert "Peru tai siirrä aika viimeistään 24 tuntia ennen sen alkua." in text


def test_a_cancelled_appointments_confirmation_says_so(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    appointment = booked(client, auth, patient_speaking(session, "sv"))
    cancelled = client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json={"cancelled_by": "patient", "reason": "Förhinder."},
        headers=auth(REFERRER),
    )
    assert cancelled.status_code == 200, cancelled.text
    sign_in(pages, REFERRER)
    text = pages.get(f"/appointments/{appointment['id']}/confirmation").text
    assert "Den här tiden har avbokats." in text
    # Its own page offers no confirmation of a time that is no longer booked.
    own_page = pages.get(f"/appointments/{appointment['id']}").text
    assert f'href="/appointments/{appointment["id"]}/confirmation"' not in own_page


def test_a_counsellors_booking_still_lands_on_the_appointment_which_links_to_it(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    patient = patient_speaking(session, "fi")
    referral = send_referral(client, auth, patient.id, sender=REFERRER, book_by_service=True)
    sign_in(pages, COUNSELLOR)
    booking = f"/referrals/{referral['id']}/book"
    chosen = slot_ids(pages.get(booking).text)[0]
    confirm = pages.get(f"{booking}/confirm", params={"slot_id": chosen})
    done = pages.post(booking, data=form_for(confirm.text, booking))
    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=booked")
    landed = follow(pages, done)
    path = done.headers["location"].split("?")[0]
    assert f'href="{path}/confirmation"' in landed.text
    assert pages.get(f"{path}/confirmation").status_code == 200


@pytest.mark.parametrize("reader", ["fi", "sv", "en"])
def test_the_appointment_page_names_the_place_in_the_readers_language(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    reader: Language,
) -> None:
    # The patient reads Finnish; the page is the reader's, whatever the patient's language.
    appointment = booked(client, auth, patient_speaking(session, "fi"))
    sign_in(pages, REFERRER)
    pages.headers["Accept-Language"] = reader
    text = pages.get(f"/appointments/{appointment['id']}").text
    assert f"<dd>{PLACES[reader]}</dd>" in text
    if reader == "sv":
        assert PLACE not in text
