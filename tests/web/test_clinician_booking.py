"""The referring clinician books the counselling time in the browser, as the NHS e-Referral
Service lets them, through the forms a browser without JavaScript posts: the service's soonest
free times (the API's slot search), a slot held and then booked exactly as the API holds and
books it, once however often the form is sent, a slot taken meanwhile explained with the API's
own message, or the booking left to the service with the day it promises; and who is refused."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import add_working_days, today_in_helsinki, utcnow
from app.scheduling.models import SlotHold
from tests.fixtures.calendar_scene import (
    COLLEAGUE,
    COUNSELLOR,
    KASKINEN,
    REFERRER,
    Auth,
    audit_mark,
    audited,
    book_via_api,
    free_slots,
    open_calendar,
    slot_ids,
    user_id,
    weekly_rules,
)
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.pages import follow, form_for, forms, sign_in

# Kaskinen's health station: the referrer's own unit, and a clinician of another one.
UNIT_COLLEAGUE = "nurse.kaskinen"
OTHER_UNIT = "doctor.laihia"
CONFIRMATION = re.compile(r"/appointments/([0-9a-f-]{36})/confirmation")


@pytest.fixture
def calendar(client: TestClient, auth: Auth, session: Session) -> uuid.UUID:
    return open_calendar(client, auth, session)


def referral_of(
    client: TestClient, auth: Auth, session: Session, index: int = 0, **changes: Any
) -> dict[str, Any]:
    """A referral Kaskinen's doctor sent without booking a time."""
    patient = demo_patient(session, KASKINEN, index)
    return send_referral(client, auth, patient.id, sender=REFERRER, **changes)


def api(client: TestClient, auth: Auth, path: str, user: str = REFERRER) -> Any:
    answer = client.get(f"/api/v1{path}", headers=auth(user))
    assert answer.status_code == 200, answer.text
    return answer.json()


def booked_of(client: TestClient, auth: Auth, referral: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api(client, auth, f"/appointments?referral_id={referral['id']}")[
        "items"
    ]
    return items


def hold_and_book_via_api(
    client: TestClient, auth: Auth, referral: dict[str, Any], slot_id: str
) -> dict[str, Any]:
    """What a patient system does: hold the slot for the referral, then book on the hold."""
    held = client.post(
        f"/api/v1/slots/{slot_id}/hold",
        json={"referral_id": referral["id"]},
        headers=auth(REFERRER),
    )
    assert held.status_code == 201, held.text
    booking = {"slot_id": slot_id, "referral_id": referral["id"], "hold_id": held.json()["hold_id"]}
    booked = client.post("/api/v1/appointments", json=booking, headers=auth(REFERRER))
    assert booked.status_code == 201, booked.text
    answer: dict[str, Any] = booked.json()
    return answer


def leads_to_the_service(page: str) -> bool:
    """Whether the page has the form that leaves the booking to the service."""
    return any(form["_action"].split("?")[0].endswith("/book/by-service") for form in forms(page))


def arrival_query() -> str:
    """The list a referrer lands on: first visits in the referral's language (Finnish)."""
    return "visit_type=first_visit&language=fi"


def held_on_the_page(pages: TestClient, referral: dict[str, Any], slot_id: str) -> dict[str, str]:
    """The check page's form after holding `slot_id` from the list."""
    booking = f"/referrals/{referral['id']}/book"
    listing = pages.get(booking)
    fields = form_for(listing.text, f"{booking}/hold?{arrival_query()}")
    held = pages.post(f"{booking}/hold?{arrival_query()}", data={**fields, "slot_id": slot_id})
    assert held.status_code == 303, held.text
    assert held.headers["location"].startswith(f"{booking}/confirm?")
    confirm = follow(pages, held)
    assert confirm.status_code == 200
    return form_for(confirm.text, f"{booking}?{arrival_query()}")


def test_a_clinician_books_a_slot_for_the_referral_they_sent_as_the_api_does(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    by_api, by_page = (referral_of(client, auth, session, n) for n in (0, 1))
    soonest = free_slots(
        client, auth, by_api["service_id"], visit_type="first_visit", language="fi"
    )
    mark = audit_mark(session)
    booked_by_api = hold_and_book_via_api(client, auth, by_api, soonest[0]["id"])
    api_entries = audited(session, mark, {booked_by_api["id"]: "appointment"})

    sign_in(pages, REFERRER)
    booking = f"/referrals/{by_page['id']}/book"
    listing = pages.get(booking)
    assert listing.status_code == 200
    offered = slot_ids(listing.text)
    # The API's search with the choices the referrer lands on: first visits in Finnish.
    wanted = free_slots(
        client, auth, by_page["service_id"], visit_type="first_visit", language="fi"
    )
    assert offered == [slot["id"] for slot in wanted][: len(offered)]
    assert leads_to_the_service(listing.text)

    mark = audit_mark(session)
    fields = held_on_the_page(pages, by_page, offered[0])
    assert fields["slot_id"] == offered[0]
    assert fields["hold_id"]
    done = pages.post(f"{booking}?{arrival_query()}", data={**fields, "mode": "in_person"})
    assert done.status_code == 303
    landed_at = CONFIRMATION.fullmatch(done.headers["location"])
    assert landed_at
    appointment_id = landed_at[1]
    page_entries = [
        entry for entry in audited(session, mark, {appointment_id: "appointment"})
        if entry[1] != "Referral"  # the check page reads the referral, as a client would
    ]  # fmt: skip
    assert page_entries == api_entries

    assert [a["id"] for a in booked_of(client, auth, by_page)] == [appointment_id]
    appointment = api(client, auth, f"/appointments/{appointment_id}")
    assert appointment["slot_id"] == offered[0]
    assert appointment["mode"] == "in_person"
    assert appointment["status"] == booked_by_api["status"] == "booked"
    events = api(client, auth, f"/referrals/{by_page['id']}/events")["items"]
    assert [e["action"] for e in events if e["action"].startswith("appointment_")] == [
        "appointment_booked"
    ]
    confirmation = follow(pages, done)
    assert confirmation.status_code == 200
    assert "Aika on varattu. Tulosta tämä vahvistus" in confirmation.text


def test_a_clinician_of_the_same_unit_may_book_it_too(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_of(client, auth, session)
    sign_in(pages, UNIT_COLLEAGUE)
    fields = held_on_the_page(
        pages, referral, slot_ids(pages.get(f"/referrals/{referral['id']}/book").text)[0]
    )
    done = pages.post(f"/referrals/{referral['id']}/book?{arrival_query()}", data=fields)
    assert CONFIRMATION.fullmatch(done.headers["location"])
    assert len(booked_of(client, auth, referral)) == 1


def test_the_same_booking_form_sent_twice_books_one_appointment(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_of(client, auth, session)
    sign_in(pages, REFERRER)
    booking = f"/referrals/{referral['id']}/book"
    fields = held_on_the_page(pages, referral, slot_ids(pages.get(booking).text)[0])
    first = pages.post(f"{booking}?{arrival_query()}", data={**fields, "mode": "in_person"})
    # A second click, or the form sent again from the browser's history, with another choice.
    again = pages.post(f"{booking}?{arrival_query()}", data={**fields, "mode": "phone"})
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    booked = booked_of(client, auth, referral)
    assert len(booked) == 1
    assert booked[0]["mode"] == "in_person"


def colleague_with_other_times(client: TestClient, auth: Auth, session: Session) -> None:
    """Kaskinen's other counsellor: afternoons, by video only, in English only."""
    colleague = user_id(session, COLLEAGUE)
    rules = weekly_rules(
        today_in_helsinki() - timedelta(days=1),
        start_time="13:00",
        end_time="15:00",
        modes=["video"],
        languages=["en"],
        visit_types=["first_visit"],
    )
    answer = client.put(
        f"/api/v1/counsellors/{colleague}/availability",
        json={"rules": rules, "exceptions": []},
        headers=auth(COLLEAGUE),
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "choices",
    [
        {"mode": "video"},
        {"mode": "phone"},
        {"language": "en"},
        {"language": "sv", "visit_type": "follow_up"},
        {"visit_type": "first_visit", "mode": "in_person", "language": "fi"},
    ],
    ids=lambda choices: "-".join(f"{k}={v}" for k, v in choices.items()),
)
def test_the_filters_list_what_the_apis_search_finds(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    choices: dict[str, str],
) -> None:
    colleague_with_other_times(client, auth, session)
    referral = referral_of(client, auth, session)
    sign_in(pages, REFERRER)
    # The form sends every field; the ones left at "any" are empty.
    query = {"visit_type": "", "mode": "", "language": "", "from_date": "", **choices}
    listing = pages.get(f"/referrals/{referral['id']}/book", params=query)
    assert listing.status_code == 200
    offered = slot_ids(listing.text)
    found = free_slots(client, auth, referral["service_id"], **choices, limit=200)
    assert offered
    assert offered == [slot["id"] for slot in found][: len(offered)]
    for name, value in choices.items():
        assert f'<option value="{value}" selected>' in listing.text, name


def test_with_every_filter_at_any_the_list_is_the_whole_search(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    colleague_with_other_times(client, auth, session)
    referral = referral_of(client, auth, session)
    sign_in(pages, REFERRER)
    query = {"visit_type": "", "mode": "", "language": "", "from_date": ""}
    offered = slot_ids(pages.get(f"/referrals/{referral['id']}/book", params=query).text)
    found = free_slots(client, auth, referral["service_id"], limit=200)
    assert offered == [slot["id"] for slot in found][: len(offered)]
    assert {slot["visit_type"] for slot in found[: len(offered)]} >= {"first_visit", "follow_up"}


def test_a_slot_taken_meanwhile_comes_back_with_the_apis_message(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral, rival = (referral_of(client, auth, session, n) for n in (0, 1))
    sign_in(pages, REFERRER)
    booking = f"/referrals/{referral['id']}/book"
    listing = pages.get(booking)
    chosen = slot_ids(listing.text)[0]
    fields = form_for(listing.text, f"{booking}/hold?{arrival_query()}")
    book_via_api(client, auth, rival)  # the soonest first visit: the one chosen
    api_says = client.post(
        f"/api/v1/slots/{chosen}/hold",
        json={"referral_id": referral["id"]},
        headers={**auth(REFERRER), "Accept-Language": "fi"},
    )
    assert api_says.status_code == 409

    refused = pages.post(f"{booking}/hold?{arrival_query()}", data={**fields, "slot_id": chosen})
    assert refused.status_code == 409
    assert html.escape(api_says.json()["title"]) in refused.text
    assert html.escape(api_says.json()["detail"]) in refused.text
    assert chosen not in slot_ids(refused.text)
    assert slot_ids(refused.text)
    assert booked_of(client, auth, referral) == []


def test_a_hold_that_lapsed_is_explained_and_the_time_chosen_again(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_of(client, auth, session)
    sign_in(pages, REFERRER)
    booking = f"/referrals/{referral['id']}/book"
    fields = held_on_the_page(pages, referral, slot_ids(pages.get(booking).text)[0])
    session.execute(
        update(SlotHold)
        .where(SlotHold.id == uuid.UUID(fields["hold_id"]))
        .values(expires_at=utcnow())
    )
    session.flush()
    refused = pages.post(f"{booking}?{arrival_query()}", data=fields)
    assert refused.status_code == 409
    assert "Pidätys on vanhentunut" in refused.text
    # Back on the list: the time, free again, can be chosen anew.
    assert fields["slot_id"] in slot_ids(refused.text)
    assert form_for(refused.text, f"{booking}/hold?{arrival_query()}")
    assert booked_of(client, auth, referral) == []


def test_the_service_books_when_no_time_suits_by_the_day_it_promises(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    by_api, by_page = (referral_of(client, auth, session, n) for n in (0, 1))
    mark = audit_mark(session)
    left = client.post(
        f"/api/v1/referrals/{by_api['id']}/book-by-service",
        headers={**auth(REFERRER), "If-Match": f'"{by_api["version"]}"'},
    )
    assert left.status_code == 200, left.text
    api_entries = audited(session, mark, {by_api["id"]: "referral"})
    promised = date.fromisoformat(left.json()["expected_contact_by"])
    assert promised == add_working_days(today_in_helsinki(), 14)

    sign_in(pages, REFERRER)
    booking = f"/referrals/{by_page['id']}/book"
    listing = pages.get(booking)
    shown = f"{promised.day}.{promised.month}.{promised.year}"
    assert f"ottaa häneen yhteyttä viimeistään {shown}" in listing.text
    fields = form_for(listing.text, f"{booking}/by-service?{arrival_query()}")
    mark = audit_mark(session)
    done = pages.post(f"{booking}/by-service?{arrival_query()}", data=fields)
    assert done.status_code == 303
    assert done.headers["location"] == f"/referrals/{by_page['id']}"
    assert audited(session, mark, {by_page["id"]: "referral"}) == api_entries

    read = api(client, auth, f"/referrals/{by_page['id']}")
    assert read["booking_by_service"] is True
    assert read["expected_contact_by"] == str(promised)
    landed = follow(pages, done)
    assert "Palvelu varaa ajan ja ottaa potilaaseen yhteyttä" in landed.text
    assert shown in landed.text
    # Left to the service: a time may still be chosen, the service's promise is shown.
    again = pages.get(booking)
    assert not leads_to_the_service(again.text)
    assert shown in again.text
    assert slot_ids(again.text)


def test_leaving_it_to_the_service_twice_is_explained(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_of(client, auth, session)
    sign_in(pages, REFERRER)
    booking = f"/referrals/{referral['id']}/book"
    fields = form_for(pages.get(booking).text, f"{booking}/by-service?{arrival_query()}")
    assert pages.post(f"{booking}/by-service?{arrival_query()}", data=fields).status_code == 303
    # The form's version is the referral's before the first: the API's refusal of a stale one.
    again = pages.post(f"{booking}/by-service?{arrival_query()}", data=fields)
    assert again.status_code == 412
    assert "hds-notification--error" in again.text
    assert not leads_to_the_service(again.text)


def test_a_clinician_of_another_unit_finds_no_such_referral(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_of(client, auth, session)
    slot = free_slots(client, auth, referral["service_id"])[0]["id"]
    appointment = hold_and_book_via_api(client, auth, referral_of(client, auth, session, 1), slot)
    sign_in(pages, OTHER_UNIT)
    csrf = form_for(follow(pages, pages.get("/")).text, "/signout")
    token = {"csrf_token": csrf["csrf_token"]}
    booking = f"/referrals/{referral['id']}/book"
    for path in (booking, f"{booking}/confirm?slot_id={slot}", f"/referrals/{referral['id']}",
                 f"/appointments/{appointment['id']}/confirmation"):  # fmt: skip
        assert pages.get(path).status_code == 404, path
    for path, data in ((f"{booking}/hold", {"slot_id": slot}), (booking, {"slot_id": slot}),
                       (f"{booking}/by-service", {"version": "1"})):  # fmt: skip
        assert pages.post(path, data={**token, **data}).status_code == 404, path
    assert booked_of(client, auth, referral) == []


@pytest.mark.parametrize("user", ["statistician.region", "auditor.region"])
def test_statisticians_and_auditors_are_refused(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    user: str,
) -> None:
    referral = referral_of(client, auth, session)
    slot = free_slots(client, auth, referral["service_id"])[0]["id"]
    appointment = hold_and_book_via_api(client, auth, referral_of(client, auth, session, 1), slot)
    sign_in(pages, user)
    csrf = form_for(follow(pages, pages.get("/")).text, "/signout")
    token = {"csrf_token": csrf["csrf_token"]}
    booking = f"/referrals/{referral['id']}/book"
    # Their role searches and books no slots (403); a record's page is "not found" (404).
    assert pages.get(booking).status_code == 403
    assert pages.get(f"{booking}/confirm?slot_id={slot}").status_code == 403
    assert pages.post(f"{booking}/hold", data={**token, "slot_id": slot}).status_code == 403
    assert pages.post(booking, data={**token, "slot_id": slot}).status_code == 403
    assert pages.post(f"{booking}/by-service", data={**token, "version": "1"}).status_code == 404
    assert pages.get(f"/appointments/{appointment['id']}/confirmation").status_code == 404
    assert pages.get(f"/referrals/{referral['id']}").status_code == 404
    assert booked_of(client, auth, referral) == []


def test_a_counsellor_cannot_leave_the_booking_to_their_own_service(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_of(client, auth, session)
    sign_in(pages, COUNSELLOR)
    booking = f"/referrals/{referral['id']}/book"
    listing = pages.get(booking)
    assert not leads_to_the_service(listing.text)
    # The counsellor's own way stays: choose, then check on a page of its own.
    assert f'action="{booking}/confirm"' in listing.text
    token = form_for(listing.text, "/signout")["csrf_token"]
    refused = pages.post(
        f"{booking}/by-service", data={"csrf_token": token, "version": str(referral["version"])}
    )
    assert refused.status_code == 403
    assert api(client, auth, f"/referrals/{referral['id']}")["booking_by_service"] is False
