"""The counsellor's calendar in the browser: the week with its appointments and free times, the
address to subscribe to, and the weekly availability editor, through the same services as the
API and with the same audit entries."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import HELSINKI, helsinki_midnight
from app.kit.public_holidays import is_public_holiday
from app.patients.models import Patient
from app.patients.protection import unseal
from app.web.templating import clock_time
from tests.fixtures.calendar_scene import (
    COLLEAGUE,
    COUNSELLOR,
    Auth,
    audit_mark,
    audited,
    book_via_api,
    free_slots,
    open_calendar,
    referral_left_to_service,
)
from tests.fixtures.pages import follow, form_for, sign_in


@pytest.fixture
def calendar(client: TestClient, auth: Auth, session: Session) -> uuid.UUID:
    return open_calendar(client, auth, session)


def week_of(moment: str) -> str:
    year, week, _ = datetime.fromisoformat(moment).astimezone(HELSINKI).isocalendar()
    return f"{year}-W{week:02d}"


def api_get(client: TestClient, auth: Auth, path: str) -> Any:
    answer = client.get(f"/api/v1{path}", headers=auth(COUNSELLOR))
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize(
    ("language", "heading", "status", "free"),
    [("fi", "Kalenteri, viikko", "Varattu", "Vapaa aika"),
     ("sv", "Kalender, vecka", "Bokad", "Ledig tid")],
)  # fmt: skip
def test_the_week_shows_appointments_and_free_times_in_finnish_and_swedish(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    language: str,
    heading: str,
    status: str,
    free: str,
) -> None:
    referral = referral_left_to_service(client, auth, session)
    appointment = book_via_api(client, auth, referral)
    patient = session.get(Patient, uuid.UUID(referral["patient_id"]))
    assert patient is not None
    week = week_of(appointment["start_at"])
    sign_in(pages, COUNSELLOR)
    pages.headers["Accept-Language"] = language
    shown = pages.get("/calendar", params={"week": week})
    assert shown.status_code == 200
    number = int(week.split("W")[1])
    assert f"<h1>{heading} {number}</h1>" in shown.text
    assert shown.text.count('<h2 id="day-') == 7
    link = f'<a class="hds-link" href="/appointments/{appointment["id"]}">'
    assert f"{link}{patient.given_name} {patient.family_name}</a>" in shown.text
    start = datetime.fromisoformat(appointment["start_at"])
    assert f'<th scope="row">{clock_time(start, language)}\u2013' in shown.text  # type: ignore[arg-type]
    assert status in shown.text
    assert free in shown.text
    assert unseal(patient.hetu_ciphertext, patient.id) not in shown.text
    assert "<caption" in shown.text or 'aria-labelledby="day-1"' in shown.text


def test_weeks_are_iso_weeks_from_monday_with_links_either_way(
    pages: TestClient, calendar: uuid.UUID
) -> None:
    sign_in(pages, COUNSELLOR)
    shown = pages.get("/calendar", params={"week": "2026-W49"})
    assert "<h1>Kalenteri, viikko 49</h1>" in shown.text
    assert "30.11.2026\u20136.12.2026" in shown.text
    assert "Maanantai 30.11.2026" in shown.text
    assert "Sunnuntai 6.12.2026" in shown.text
    assert 'href="/calendar?week=2026-W48&amp;whose=mine"' in shown.text
    assert 'href="/calendar?week=2026-W50&amp;whose=mine"' in shown.text
    # A year of 53 weeks goes on to the next year's first.
    last = pages.get("/calendar", params={"week": "2020-W53"})
    assert "28.12.2020\u20133.1.2021" in last.text
    assert 'href="/calendar?week=2021-W01&amp;whose=mine"' in last.text
    # Not a week: this week.
    this = pages.get("/calendar", params={"week": "2026-W99"})
    assert this.status_code == 200
    assert 'aria-current="true">Tämä viikko' in this.text


@pytest.mark.parametrize(
    ("language", "eve", "christmas", "note"),
    [("fi", "Jouluaatto", "Joulupäivä", "arkipyhinä, juhannusaattona eikä jouluaattona"),
     ("sv", "Julafton", "Juldagen", "helgdagar, midsommarafton eller julafton"),
     ("en", "Christmas Eve", "Christmas Day", "public holidays, Midsummer Eve or Christmas Eve")],
)  # fmt: skip
def test_the_week_names_its_public_holidays_in_the_readers_language(
    pages: TestClient, calendar: uuid.UUID, language: str, eve: str, christmas: str, note: str
) -> None:
    sign_in(pages, COUNSELLOR)
    pages.headers["Accept-Language"] = language
    shown = pages.get("/calendar", params={"week": "2026-W52"})
    holiday = '<span class="calendar-day__holiday">'
    assert "23.12.2026</h2>" in shown.text
    assert f"24.12.2026 {holiday}({eve})</span></h2>" in shown.text
    assert f"25.12.2026 {holiday}({christmas})</span></h2>" in shown.text
    assert shown.text.count(holiday) == 3  # and St Stephen's Day on the Saturday
    # The availability editor says why the weekly times leave such days empty.
    assert note in pages.get("/calendar/availability").text


def test_reading_the_week_is_audited_as_the_apis_list_is(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    booked = [book_via_api(client, auth, referral_left_to_service(client, auth, session, n))
              for n in (0, 1)]  # fmt: skip
    week = week_of(booked[0]["start_at"])
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    names = {a["id"]: f"appointment {n}" for n, a in enumerate(booked)}
    mark = audit_mark(session)
    window = {"counsellor_id": str(calendar), "start": helsinki_midnight(monday).isoformat(),
              "end": helsinki_midnight(monday + timedelta(days=7)).isoformat()}  # fmt: skip
    listed = client.get("/api/v1/appointments", params=window, headers=auth(COUNSELLOR)).json()
    api_entries = audited(session, mark, names)
    assert {a["id"] for a in listed["items"]} >= {booked[0]["id"]}

    sign_in(pages, COUNSELLOR)
    mark = audit_mark(session)
    assert pages.get("/calendar", params={"week": week}).status_code == 200
    assert audited(session, mark, names) == api_entries


def test_the_whole_service_shows_the_colleagues_too(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    colleague = open_calendar(client, auth, session, COLLEAGUE)
    referral = referral_left_to_service(client, auth, session)
    theirs = next(slot for slot in free_slots(client, auth, referral["service_id"])
                  if slot["counsellor_id"] == str(colleague))  # fmt: skip
    appointment = client.post(
        "/api/v1/appointments",
        json={"slot_id": theirs["id"], "referral_id": referral["id"]},
        headers=auth(COUNSELLOR),
    ).json()
    week = week_of(appointment["start_at"])
    sign_in(pages, COUNSELLOR)
    mine = pages.get("/calendar", params={"week": week})
    assert appointment["id"] not in mine.text
    assert "Liikuntaneuvoja 2 Kaskinen" not in mine.text
    service = pages.get("/calendar", params={"week": week, "whose": "service"})
    assert f'href="/appointments/{appointment["id"]}"' in service.text
    assert "<td>Liikuntaneuvoja 2 Kaskinen</td>" in service.text


def test_the_calendar_address_is_made_shown_once_and_stopped(
    pages: TestClient, client: TestClient, calendar: uuid.UUID
) -> None:
    page = sign_in(pages, COUNSELLOR, "/calendar")
    assert "Tee uusi kalenteriosoite" in page.text
    made = pages.post("/calendar/feed", data=form_for(page.text, "/calendar/feed"))
    assert made.status_code == 303
    shown = follow(pages, made)
    found = re.search(r'id="feed-https" value="([^"]+)" readonly', shown.text)
    webcal = re.search(r'id="feed-webcal" value="([^"]+)" readonly', shown.text)
    assert found
    assert webcal
    url = found[1].replace("&amp;", "&")
    prefix = f"https://testserver/api/v1/counsellors/{calendar}/calendar.ics?token="
    assert url.startswith(prefix)
    assert webcal[1].replace("&amp;", "&") == "webcal" + url.removeprefix("https")
    assert '<label class="hds-text-input__label" for="feed-webcal">' in shown.text
    feed = client.get(url)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    # Shown once: the secret is not kept for the next look.
    assert "feed-https" not in pages.get("/calendar").text

    revoke = form_for(shown.text, "/calendar/feed/revoke")
    stopped = pages.post("/calendar/feed/revoke", data=revoke)
    assert stopped.status_code == 303
    assert "Kalenteriosoitteesi ei enää toimi." in follow(pages, stopped).text
    assert client.get(url).status_code == 404


class _Ticked(HTMLParser):
    """What a browser adds to a form's text fields: ticked boxes and radios, chosen options."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, Any] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "input" and named.get("type") in ("checkbox", "radio") and "checked" in named:
            if named["type"] == "checkbox":
                self.fields.setdefault(named["name"], []).append(named["value"])
            else:
                self.fields[named["name"]] = named["value"]
        elif tag == "select":
            self._select = named["name"]
        elif tag == "option" and self._select and "selected" in named:
            self.fields[self._select] = named["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def posted_fields(html: str) -> dict[str, Any]:
    """The availability form as a browser would send it."""
    ticked = _Ticked()
    ticked.feed(html)
    return {**form_for(html, "/calendar/availability"), **ticked.fields}


@pytest.mark.parametrize(("language", "monday"), [("fi", "Maanantai"), ("sv", "Måndag")])
def test_the_availability_editor_shows_the_weekly_times(
    pages: TestClient, calendar: uuid.UUID, language: str, monday: str
) -> None:
    sign_in(pages, COUNSELLOR)
    pages.headers["Accept-Language"] = language
    shown = pages.get("/calendar/availability")
    assert shown.status_code == 200
    assert f'<option value="0" selected>{monday}</option>' in shown.text
    assert shown.text.count('value="Kaskisten liikuntahalli"') == 7
    fields = posted_fields(shown.text)
    assert fields["rules.0.start_time"] == "09:00"
    assert fields["rules.0.modes"] == ["in_person", "phone"]
    assert f'<html lang="{language}">' in shown.text


def test_saving_the_availability_reports_the_appointments_left_outside(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    appointment = book_via_api(client, auth, referral_left_to_service(client, auth, session))
    weekday = datetime.fromisoformat(appointment["start_at"]).astimezone(HELSINKI).weekday()
    sign_in(pages, COUNSELLOR)
    fields = posted_fields(pages.get("/calendar/availability").text)
    assert fields[f"rules.{weekday}.weekday"] == str(weekday)
    fields[f"rules.{weekday}.remove"] = "1"
    saved = pages.post("/calendar/availability", data=fields)
    assert saved.status_code == 303
    shown = follow(pages, saved)
    assert "Tallennettu: 0 uutta vapaata aikaa" in shown.text
    assert "Varattuja aikoja uusien vastaanottoaikojesi ulkopuolella" in shown.text
    assert f'href="/appointments/{appointment["id"]}"' in shown.text
    stored = api_get(client, auth, f"/counsellors/{calendar}/availability")
    assert sorted(rule["weekday"] for rule in stored["rules"]) == [
        n for n in range(7) if n != weekday
    ]
    assert api_get(client, auth, f"/appointments/{appointment['id']}")["status"] == "booked"
    # The report is shown once.
    assert "Tallennettu" not in pages.get("/calendar/availability").text


def test_a_refused_availability_keeps_what_was_typed(
    pages: TestClient, client: TestClient, auth: Auth, calendar: uuid.UUID
) -> None:
    sign_in(pages, COUNSELLOR)
    fields = posted_fields(pages.get("/calendar/availability").text)
    fields.update({"rules.0.end_time": "08:00", "rules.1.location": "Uusi halli"})
    fields.update({"rules.7.weekday": "2", "rules.7.start_time": "13:00",
                   "rules.7.end_time": "15:00", "rules.7.location": "Koulu"})  # fmt: skip
    refused = pages.post("/calendar/availability", data=fields)
    assert refused.status_code == 422
    summary = '<a class="hds-link" href="#f-rules-0-end_time">Viikkoaika 1, Päättyy: Alkamisajan'
    assert summary in refused.text
    assert 'id="f-rules-0-end_time-error">Alkamisajan pitää olla ennen' in refused.text
    assert 'value="08:00" aria-describedby="f-rules-0-end_time-error"' in refused.text
    assert 'value="Uusi halli"' in refused.text
    assert 'name="rules.7.location" value="Koulu"' in refused.text
    # The new row had no visit types: said beside them.
    assert 'id="f-rules-7-visit_types-error"' in refused.text
    stored = api_get(client, auth, f"/counsellors/{calendar}/availability")
    assert {rule["location"] for rule in stored["rules"]} == {"Kaskisten liikuntahalli"}


def test_another_row_is_added_without_saving(
    pages: TestClient, client: TestClient, auth: Auth, calendar: uuid.UUID
) -> None:
    sign_in(pages, COUNSELLOR)
    fields = posted_fields(pages.get("/calendar/availability").text)
    fields["rules.1.location"] = "Uusi halli"
    added = pages.post("/calendar/availability", data={**fields, "add": "exceptions"})
    assert added.status_code == 200
    assert added.text.count("Uusi poikkeus") == 2
    assert 'value="Uusi halli"' in added.text
    stored = api_get(client, auth, f"/counsellors/{calendar}/availability")
    assert {rule["location"] for rule in stored["rules"]} == {"Kaskisten liikuntahalli"}


def test_an_exception_takes_a_day_away(
    pages: TestClient, client: TestClient, auth: Auth, calendar: uuid.UUID
) -> None:
    day = date.today() + timedelta(days=14)
    while is_public_holiday(day):  # a day the weekly times would have slots on
        day += timedelta(days=1)
    sign_in(pages, COUNSELLOR)
    fields = posted_fields(pages.get("/calendar/availability").text)
    fields.update({"exceptions.0.kind": "absence", "exceptions.0.on_date": day.isoformat(),
                   "exceptions.0.note": "Koulutus"})  # fmt: skip
    assert pages.post("/calendar/availability", data=fields).status_code == 303
    stored = api_get(client, auth, f"/counsellors/{calendar}/availability")
    assert [(e["kind"], e["on_date"], e["start_time"]) for e in stored["exceptions"]] == [
        ("absence", day.isoformat(), None)
    ]
    week = f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"
    shown = pages.get("/calendar", params={"week": week})
    heading = f'{day.day}.{day.month}.{day.year}</h2>\n  <p class="muted">'
    assert heading in shown.text


def test_only_a_counsellor_has_a_calendar(pages: TestClient) -> None:
    sign_in(pages, "nurse.laihia")
    assert pages.get("/calendar").status_code == 403
    assert pages.get("/calendar/availability").status_code == 404


def test_without_a_session_the_calendar_leads_to_sign_in(pages: TestClient) -> None:
    for address in ("/calendar?week=2026-W49", "/calendar/availability"):
        answer = pages.get(address)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=%2Fcalendar")
    assert pages.post("/calendar/feed").status_code == 303


def test_the_calendar_forms_need_their_token(
    pages: TestClient, client: TestClient, auth: Auth, calendar: uuid.UUID
) -> None:
    sign_in(pages, COUNSELLOR)
    fields = posted_fields(pages.get("/calendar/availability").text)
    fields["rules.0.location"] = "Uusi halli"
    del fields["csrf_token"]
    assert pages.post("/calendar/availability", data=fields).status_code == 403
    assert pages.post("/calendar/feed", data={"csrf_token": "forged"}).status_code == 403
    stored = api_get(client, auth, f"/counsellors/{calendar}/availability")
    assert {rule["location"] for rule in stored["rules"]} == {"Kaskisten liikuntahalli"}
