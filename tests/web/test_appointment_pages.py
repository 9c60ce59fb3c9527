"""An appointment's page and its actions, and booking for a referral, through the forms a
browser without JavaScript posts: the same state and the same audit entries as the API's
endpoints, refused forms shown again with what was typed, other services' records not found."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.patients.models import Patient
from app.patients.protection import unseal
from tests.fixtures.calendar_scene import (
    COUNSELLOR,
    OTHER_SERVICE,
    Auth,
    audit_mark,
    audited,
    begin,
    book_via_api,
    free_slots,
    open_calendar,
    referral_left_to_service,
    slot_ids,
)
from tests.fixtures.pages import follow, form_for, sign_in


@pytest.fixture
def calendar(client: TestClient, auth: Auth, session: Session) -> uuid.UUID:
    return open_calendar(client, auth, session)


def api_get(client: TestClient, auth: Auth, path: str) -> Any:
    answer = client.get(f"/api/v1{path}", headers=auth(COUNSELLOR))
    assert answer.status_code == 200, answer.text
    return answer.json()


def events(client: TestClient, auth: Auth, referral_id: str) -> list[str]:
    """The appointments' steps on the referral's timeline."""
    timeline = api_get(client, auth, f"/referrals/{referral_id}/events")["items"]
    return [e["action"] for e in timeline if e["action"].startswith("appointment_")]


def csrf_of(pages: TestClient) -> str:
    return form_for(pages.get("/calendar").text, "/calendar/feed")["csrf_token"]


def same_shape(appointment: dict[str, Any]) -> dict[str, Any]:
    """What two appointments in the same state have in common."""
    kept = ("status", "visit_type", "mode", "cancelled_by", "late_cancellation", "needs_marking")
    return {name: appointment[name] for name in kept}


@pytest.mark.parametrize(
    ("language", "heading", "clock"), [("fi", "Ajanvaraus", "klo "), ("sv", "Tidsbokning", "kl. ")]
)
def test_an_appointment_page_in_finnish_and_swedish(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    language: str,
    heading: str,
    clock: str,
) -> None:
    referral = referral_left_to_service(client, auth, session)
    appointment = book_via_api(client, auth, referral)
    patient = session.get(Patient, uuid.UUID(referral["patient_id"]))
    assert patient is not None
    sign_in(pages, COUNSELLOR)
    pages.headers["Accept-Language"] = language
    shown = pages.get(f"/appointments/{appointment['id']}")
    assert shown.status_code == 200
    assert f"<h1>{heading}: {patient.given_name} {patient.family_name}</h1>" in shown.text
    assert clock in shown.text
    assert f'action="/appointments/{appointment["id"]}/cancel"' in shown.text
    # Not begun: it cannot be marked yet.
    assert "/attended" not in shown.text
    assert unseal(patient.hetu_ciphertext, patient.id) not in shown.text
    assert f'<html lang="{language}">' in shown.text


def test_booking_through_the_pages_is_the_apis_booking(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    by_api, by_page = (referral_left_to_service(client, auth, session, n) for n in (0, 1))
    mark = audit_mark(session)
    booked_by_api = book_via_api(client, auth, by_api)
    api_entries = audited(session, mark, {booked_by_api["id"]: "appointment"})

    sign_in(pages, COUNSELLOR)
    booking = f"/referrals/{by_page['id']}/book"
    listing = pages.get(booking, params={"visit_type": "first_visit"})
    assert listing.status_code == 200
    offered = slot_ids(listing.text)
    soonest = free_slots(client, auth, by_page["service_id"], visit_type="first_visit")
    assert offered == [slot["id"] for slot in soonest][: len(offered)]
    chosen = {"slot_id": offered[0], "visit_type": "first_visit"}
    confirm = pages.get(f"{booking}/confirm", params=chosen)
    assert confirm.status_code == 200
    fields = form_for(confirm.text, f"{booking}?visit_type=first_visit")
    mark = audit_mark(session)
    done = pages.post(f"{booking}?visit_type=first_visit", data={**fields, "mode": "in_person"})
    assert done.status_code == 303
    found = re.fullmatch(r"/appointments/([0-9a-f-]{36})\?done=booked", done.headers["location"])
    assert found
    assert audited(session, mark, {found[1]: "appointment"}) == api_entries

    booked_by_page = api_get(client, auth, f"/appointments/{found[1]}")
    assert same_shape(booked_by_page) == same_shape(booked_by_api)
    assert booked_by_page["slot_id"] == offered[0]
    for referral in (by_api, by_page):
        assert api_get(client, auth, f"/referrals/{referral['id']}")["booking_by_service"] is False
    assert events(client, auth, by_page["id"]) == events(client, auth, by_api["id"])
    assert events(client, auth, by_page["id"]) == ["appointment_booked"]
    landed = follow(pages, done)
    assert "Aika on varattu." in landed.text


def test_a_slot_taken_meanwhile_is_explained_and_others_offered(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral, rival = (referral_left_to_service(client, auth, session, n) for n in (0, 1))
    sign_in(pages, COUNSELLOR)
    # First visits only, as the rival books: a follow-up may start sooner than any first visit.
    listing = pages.get(f"/referrals/{referral['id']}/book", params={"visit_type": "first_visit"})
    chosen = slot_ids(listing.text)[0]
    confirm = pages.get(f"/referrals/{referral['id']}/book/confirm", params={"slot_id": chosen})
    fields = form_for(confirm.text, f"/referrals/{referral['id']}/book")
    book_via_api(client, auth, rival)  # the soonest first visit, the one chosen
    refused = pages.post(f"/referrals/{referral['id']}/book", data={**fields, "mode": "phone"})
    assert refused.status_code == 409
    assert "Aika ei ole vapaana" in refused.text
    assert chosen not in slot_ids(refused.text)
    assert slot_ids(refused.text)
    assert api_get(client, auth, f"/referrals/{referral['id']}")["booking_by_service"] is True


def test_cancelling_through_the_page_is_the_apis_cancel(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referrals = [referral_left_to_service(client, auth, session, n) for n in (0, 1)]
    by_api, by_page = (book_via_api(client, auth, r) for r in referrals)
    reason = {"cancelled_by": "patient", "reason": "Potilas on sairaana."}
    mark = audit_mark(session)
    answer = client.post(
        f"/api/v1/appointments/{by_api['id']}/cancel", json=reason, headers=auth(COUNSELLOR)
    )
    assert answer.status_code == 200
    api_entries = audited(session, mark, {by_api["id"]: "appointment"})

    sign_in(pages, COUNSELLOR)
    path = f"/appointments/{by_page['id']}"
    fields = form_for(pages.get(path).text, f"{path}/cancel")
    mark = audit_mark(session)
    done = pages.post(f"{path}/cancel", data={**fields, **reason})
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done=cancelled"
    assert audited(session, mark, {by_page["id"]: "appointment"}) == api_entries
    cancelled = api_get(client, auth, path)
    assert same_shape(cancelled) == same_shape(answer.json())
    assert events(client, auth, referrals[1]["id"]) == events(client, auth, referrals[0]["id"])
    assert "Aika on peruttu." in follow(pages, done).text


def test_a_refused_cancel_keeps_what_was_typed(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    appointment = book_via_api(client, auth, referral_left_to_service(client, auth, session))
    path = f"/appointments/{appointment['id']}"
    sign_in(pages, COUNSELLOR)
    fields = form_for(pages.get(path).text, f"{path}/cancel")
    typed = "Potilas soitti & perui."
    incomplete = pages.post(f"{path}/cancel", data={**fields, "reason": typed})
    assert incomplete.status_code == 422
    assert '<a class="hds-link" href="#f-cancelled_by">Kuka peruu: ' in incomplete.text
    assert 'id="f-cancelled_by-error"' in incomplete.text
    assert "Potilas soitti &amp; perui.</textarea>" in incomplete.text
    assert api_get(client, auth, path)["status"] == "booked"

    # Cancelled by someone else meanwhile: the reason is explained, the typing kept.
    client.post(
        f"/api/v1{path}/cancel",
        json={"cancelled_by": "provider", "reason": "Neuvoja sairastui."},
        headers=auth(COUNSELLOR),
    )
    retyped = {**fields, "reason": typed, "cancelled_by": "patient"}
    stale = pages.post(f"{path}/cancel", data=retyped)
    assert stale.status_code == 409
    assert "Aika ei ole varattuna" in stale.text
    assert f'href="{path}">Lataa sivu uudelleen' in stale.text
    assert "Potilas soitti &amp; perui.</textarea>" in stale.text
    assert 'value="patient" checked' in stale.text


def test_rescheduling_through_the_page_is_the_apis_reschedule(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referrals = [referral_left_to_service(client, auth, session, n) for n in (0, 1)]
    by_api, by_page = (book_via_api(client, auth, r) for r in referrals)
    service_id = referrals[0]["service_id"]
    mark = audit_mark(session)
    moved_by_api = client.post(
        f"/api/v1/appointments/{by_api['id']}/reschedule",
        json={"slot_id": free_slots(client, auth, service_id, visit_type="first_visit")[-1]["id"]},
        headers=auth(COUNSELLOR),
    ).json()
    names = {by_api["id"]: "old", moved_by_api["id"]: "new"}
    api_entries = audited(session, mark, names)

    sign_in(pages, COUNSELLOR)
    path = f"/appointments/{by_page['id']}"
    choosing = pages.get(f"{path}/reschedule")
    assert choosing.status_code == 200
    offered = slot_ids(choosing.text)
    assert offered
    # Soonest first, of the same visit type to begin with.
    soonest = free_slots(client, auth, service_id, visit_type="first_visit")
    assert offered == [s["id"] for s in soonest][: len(offered)]
    action = f"{path}/reschedule?visit_type=first_visit"
    fields = form_for(choosing.text, action)
    mark = audit_mark(session)
    done = pages.post(action, data={**fields, "slot_id": offered[0]})
    assert done.status_code == 303, done.text
    moved_to = r"/appointments/([0-9a-f-]{36})\?done=rescheduled"
    found = re.fullmatch(moved_to, done.headers["location"])
    assert found
    assert audited(session, mark, {by_page["id"]: "old", found[1]: "new"}) == api_entries
    old = api_get(client, auth, path)
    assert (old["status"], old["rescheduled_to"]) == ("cancelled", found[1])
    moved_by_page = api_get(client, auth, f"/appointments/{found[1]}")
    assert same_shape(moved_by_page) == same_shape(moved_by_api)
    assert events(client, auth, referrals[1]["id"]) == events(client, auth, referrals[0]["id"])


def test_a_refused_move_keeps_the_choice(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral, rival = (referral_left_to_service(client, auth, session, n) for n in (0, 1))
    appointment = book_via_api(client, auth, referral)
    path = f"/appointments/{appointment['id']}"
    sign_in(pages, COUNSELLOR)
    choosing = pages.get(f"{path}/reschedule", params={"visit_type": "follow_up"})
    target = slot_ids(choosing.text)[0]
    fields = form_for(choosing.text, f"{path}/reschedule?visit_type=follow_up")
    taken = client.post(
        "/api/v1/appointments",
        json={"slot_id": target, "referral_id": rival["id"]},
        headers=auth(COUNSELLOR),
    )
    assert taken.status_code == 201
    refused = pages.post(
        f"{path}/reschedule?visit_type=follow_up",
        data={**fields, "slot_id": target, "mode": "phone"},
    )
    assert refused.status_code == 409
    assert '<option value="phone" selected>' in refused.text
    assert '<option value="follow_up" selected>' in refused.text
    assert api_get(client, auth, path)["status"] == "booked"


@pytest.mark.parametrize(("outcome", "status"), [("attended", "attended"), ("no-show", "no_show")])
def test_marking_through_the_page_is_the_apis_marking(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    outcome: str,
    status: str,
) -> None:
    referrals = [referral_left_to_service(client, auth, session, n) for n in (0, 1)]
    by_api = book_via_api(client, auth, referrals[0])
    by_page = book_via_api(client, auth, referrals[1])
    begin(session, by_api["id"], hours_ago=3)
    begin(session, by_page["id"], hours_ago=1)
    mark = audit_mark(session)
    answer = client.post(f"/api/v1/appointments/{by_api['id']}/{outcome}", headers=auth(COUNSELLOR))
    assert answer.status_code == 200
    api_entries = audited(session, mark, {by_api["id"]: "appointment"})

    sign_in(pages, COUNSELLOR)
    path = f"/appointments/{by_page['id']}"
    fields = form_for(pages.get(path).text, f"{path}/{outcome}")
    mark = audit_mark(session)
    done = pages.post(f"{path}/{outcome}", data=fields)
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done={status}"
    assert audited(session, mark, {by_page["id"]: "appointment"}) == api_entries
    assert api_get(client, auth, path)["status"] == status
    assert events(client, auth, referrals[1]["id"]) == events(client, auth, referrals[0]["id"])
    # Marked once: a second press is explained, not a second marking.
    again = pages.post(f"{path}/{outcome}", data=fields)
    assert again.status_code == 409
    assert "Aika ei ole varattuna" in again.text


def test_another_services_counsellor_finds_nothing(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_left_to_service(client, auth, session)
    appointment = book_via_api(client, auth, referral)
    slot = free_slots(client, auth, referral["service_id"])[0]["id"]
    path = f"/appointments/{appointment['id']}"
    booking = f"/referrals/{referral['id']}/book"
    mark = audit_mark(session)
    assert client.get(f"/api/v1{path}", headers=auth(OTHER_SERVICE)).status_code == 404
    api_entries = audited(session, mark, {appointment["id"]: "appointment"})

    sign_in(pages, OTHER_SERVICE)
    mark = audit_mark(session)
    assert pages.get(path).status_code == 404
    assert audited(session, mark, {appointment["id"]: "appointment"}) == api_entries
    token = {"csrf_token": csrf_of(pages)}
    for address in (path, f"{path}/reschedule", booking, f"{booking}/confirm?slot_id={slot}"):
        answer = pages.get(address)
        assert answer.status_code == 404, address
        assert "<h1>Ei löytynyt</h1>" in answer.text
    posts = {
        f"{path}/cancel": {"cancelled_by": "provider", "reason": "Ei."},
        f"{path}/reschedule": {"slot_id": slot},
        f"{path}/attended": {},
        f"{path}/no-show": {},
        booking: {"slot_id": slot},
    }
    for address, data in posts.items():
        assert pages.post(address, data={**token, **data}).status_code == 404, address
    assert api_get(client, auth, path)["status"] == "booked"
    booked = api_get(client, auth, f"/appointments?referral_id={referral['id']}")["items"]
    assert [a["id"] for a in booked] == [appointment["id"]]


def test_the_forms_need_their_token(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_left_to_service(client, auth, session)
    appointment = book_via_api(client, auth, referral)
    path = f"/appointments/{appointment['id']}"
    sign_in(pages, COUNSELLOR)
    slot = slot_ids(pages.get(f"/referrals/{referral['id']}/book").text)[0]
    posts = {
        f"{path}/cancel": {"cancelled_by": "provider", "reason": "Ei."},
        f"{path}/reschedule": {"slot_id": slot},
        f"{path}/attended": {},
        f"/referrals/{referral['id']}/book": {"slot_id": slot},
    }
    for address, data in posts.items():
        refused = pages.post(address, data={**data, "csrf_token": "forged"})
        assert refused.status_code == 403, address
        assert pages.post(address, data=data).status_code == 403, address
    assert api_get(client, auth, path)["status"] == "booked"


def test_without_a_session_the_pages_lead_to_sign_in(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, calendar: uuid.UUID
) -> None:
    referral = referral_left_to_service(client, auth, session)
    appointment = book_via_api(client, auth, referral)
    path = f"/appointments/{appointment['id']}"
    for address in (path, f"{path}/reschedule", f"/referrals/{referral['id']}/book"):
        answer = pages.get(address)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=%2F")
    posted = pages.post(f"{path}/cancel", data={"cancelled_by": "patient", "reason": "x"})
    assert posted.status_code == 303
    assert posted.headers["location"] == "/signin?next=%2F"
    assert api_get(client, auth, path)["status"] == "booked"


@pytest.mark.parametrize(
    ("language", "book", "move"),
    [("fi", "Varaa aika", "Siirrä aika"), ("sv", "Boka en tid", "Flytta tiden")],
)
def test_choosing_a_time_in_finnish_and_swedish(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    calendar: uuid.UUID,
    language: str,
    book: str,
    move: str,
) -> None:
    referral, other = (referral_left_to_service(client, auth, session, n) for n in (0, 1))
    appointment = book_via_api(client, auth, other)
    sign_in(pages, COUNSELLOR)
    pages.headers["Accept-Language"] = language
    booking = pages.get(f"/referrals/{referral['id']}/book")
    assert booking.status_code == 200
    assert f"<h1>{book}: " in booking.text
    slot = slot_ids(booking.text)[0]
    confirm = pages.get(f"/referrals/{referral['id']}/book/confirm", params={"slot_id": slot})
    assert confirm.status_code == 200
    assert f'name="slot_id" value="{slot}"' in confirm.text
    moving = pages.get(f"/appointments/{appointment['id']}/reschedule")
    assert moving.status_code == 200
    assert f"<h1>{move}: " in moving.text
    for page in (booking, confirm, moving):
        assert f'<html lang="{language}">' in page.text
