"""Availability, search, holds and the life of an appointment through HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.models import User
from app.kit.clock import utcnow
from app.scheduling import repository
from app.scheduling.models import Appointment, Slot, SlotHold
from tests.fixtures.factories import act, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"
RULES = [
    {
        "weekday": weekday,
        "start_time": "09:00",
        "end_time": "12:00",
        "location": "Laihian liikuntahalli",
        "modes": ["in_person", "phone"],
        "visit_types": ["first_visit", "follow_up"],
        "languages": ["fi", "sv"],
        "valid_from": str(date.today() - timedelta(days=1)),
    }
    for weekday in range(7)
]


def user_id(session: Session, username: str) -> uuid.UUID:
    return session.scalars(select(User.id).where(User.username == username)).one()


@pytest.fixture
def counsellor_id(client: TestClient, auth: Auth, session: Session) -> uuid.UUID:
    counsellor = user_id(session, COUNSELLOR)
    response = client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": RULES, "exceptions": []},
        headers=auth(COUNSELLOR),
    )
    assert response.status_code == 200, response.text
    assert response.json()["slots_created"] > 16 * 7 * 6
    return counsellor


@pytest.fixture
def service_id(session: Session) -> uuid.UUID:
    counsellor = session.scalars(select(User).where(User.username == COUNSELLOR)).one()
    assert counsellor.service_id is not None
    return counsellor.service_id


@pytest.fixture
def referral(client: TestClient, auth: Auth, session: Session) -> dict[str, Any]:
    return send_referral(client, auth, demo_patient(session, "399").id)


def search(
    client: TestClient,
    auth: Auth,
    service_id: uuid.UUID,
    user: str = "doctor.laihia",
    **params: Any,
) -> list[dict[str, Any]]:
    start = (utcnow() + timedelta(days=1)).isoformat()
    response = client.get(
        "/api/v1/slots",
        params={"service_id": str(service_id), "start": start, **params},
        headers=auth(user),
    )
    assert response.status_code == 200, response.text
    slots: list[dict[str, Any]] = response.json()["items"]
    return slots


def book(
    client: TestClient,
    auth: Auth,
    slot: dict[str, Any],
    referral: dict[str, Any],
    user: str = "doctor.laihia",
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    body = {"slot_id": slot["id"], "referral_id": referral["id"], **fields}
    return client.post("/api/v1/appointments", json=body, headers={**auth(user), **(headers or {})})


def hold(
    client: TestClient,
    auth: Auth,
    slot: dict[str, Any],
    referral: dict[str, Any] | None,
    user: str = "doctor.laihia",
) -> Any:
    body = {"referral_id": referral["id"]} if referral else None
    return client.post(f"/api/v1/slots/{slot['id']}/hold", json=body, headers=auth(user))


def test_availability_round_trip_and_who_may_change_it(
    client: TestClient, auth: Auth, session: Session, counsellor_id: uuid.UUID
) -> None:
    url = f"/api/v1/counsellors/{counsellor_id}/availability"
    read = client.get(url, headers=auth("counsellor2.laihia")).json()
    assert [rule["weekday"] for rule in read["rules"]] == list(range(7))
    body = {"rules": RULES, "exceptions": []}
    # The colleague sees the calendar, so is told no; the others are told nothing exists.
    assert client.put(url, json=body, headers=auth("counsellor2.laihia")).status_code == 403
    for user in ("counsellor1.kaskinen", "doctor.laihia", "admin.laihia"):
        assert client.put(url, json=body, headers=auth(user)).status_code == 404, user
    assert client.get(url, headers=auth("counsellor1.kaskinen")).status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"start_time": "12:00", "end_time": "09:00"},
        {"weekday": 7},
        {"visit_types": ["massage"]},
        {"modes": []},
        {"start_time": "9 o'clock"},
    ],
)
def test_impossible_rules_are_refused(
    client: TestClient, auth: Auth, session: Session, bad: dict[str, Any]
) -> None:
    url = f"/api/v1/counsellors/{user_id(session, COUNSELLOR)}/availability"
    response = client.put(url, json={"rules": [{**RULES[0], **bad}]}, headers=auth(COUNSELLOR))
    assert response.status_code == 422


def test_search_is_soonest_first_in_helsinki_time_and_filters(
    client: TestClient, auth: Auth, counsellor_id: uuid.UUID, service_id: uuid.UUID
) -> None:
    slots = search(client, auth, service_id, visit_type="first_visit", language="sv")
    assert slots
    assert slots == sorted(slots, key=lambda s: s["start_at"])
    assert all(s["visit_type"] == "first_visit" and "sv" in s["languages"] for s in slots)
    assert slots[0]["start_at"][-6:] in ("+02:00", "+03:00")
    assert slots[0]["start_at"][11:16] in ("09:00", "10:00", "11:00")
    assert search(client, auth, service_id, language="en") == []
    assert search(client, auth, service_id, mode="video") == []


def test_booking_takes_the_slot_and_every_overlapping_one(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id, visit_type="first_visit")[0]
    booked = book(client, auth, slot, referral)
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert (appointment["status"], appointment["mode"]) == ("booked", "in_person")
    remaining = search(client, auth, service_id, limit=200)
    overlapping = [
        s
        for s in remaining
        if s["start_at"] < appointment["end_at"] and s["end_at"] > appointment["start_at"]
    ]
    assert overlapping == []
    again = book(client, auth, slot, referral)
    assert again.status_code == 409
    assert again.json()["code"] == "slot_unavailable"
    timeline = client.get(
        f"/api/v1/referrals/{referral['id']}/events", headers=auth("doctor.laihia")
    )
    assert timeline.json()["items"][-1]["action"] == "appointment_booked"


def test_a_hold_keeps_others_off_and_lapses_by_itself(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id, visit_type="follow_up")[0]
    held = hold(client, auth, slot, referral)
    assert held.status_code == 201, held.text
    hold_id = held.json()["hold_id"]
    # Someone else cannot take it meanwhile, nor see it free.
    other = book(client, auth, slot, referral, user="counsellor2.laihia")
    assert other.status_code == 409
    assert slot["id"] not in [s["id"] for s in search(client, auth, service_id, limit=200)]
    # Expired: free again for everyone, and the old hold is no good.
    session.execute(
        update(SlotHold).where(SlotHold.id == uuid.UUID(hold_id)).values(expires_at=utcnow())
    )
    session.flush()
    assert slot["id"] in [s["id"] for s in search(client, auth, service_id, limit=200)]
    stale = book(client, auth, slot, referral, hold_id=hold_id)
    assert stale.json()["code"] == "hold_expired"
    assert book(client, auth, slot, referral, user="counsellor2.laihia").status_code == 201


def test_only_those_who_may_book_for_the_service_hold_its_slots(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    elsewhere = send_referral(client, auth, demo_patient(session, "231").id, "doctor.kaskinen")
    refusals = [
        # Another municipality's counsellor, and a clinician with no referral to book.
        (hold(client, auth, slot, None, "counsellor1.kaskinen"), 403, "hold_not_allowed"),
        (hold(client, auth, slot, None), 403, "hold_not_allowed"),
        # A referral sent elsewhere, and one the clinician may not see.
        (hold(client, auth, slot, elsewhere, "doctor.kaskinen"), 422, "slot_of_another_service"),
        (hold(client, auth, slot, referral, "doctor.isokyro"), 404, "not_found"),
    ]
    assert [(r.status_code, r.json()["code"]) for r, *_ in refusals] == [
        (status, code) for _r, status, code in refusals
    ]
    assert slot["id"] in [s["id"] for s in search(client, auth, service_id, limit=200)]
    refused = session.scalars(
        select(AuditEvent).where(
            AuditEvent.resource_type == "Slot", AuditEvent.outcome == "refused"
        )
    ).all()
    assert [event.actor for event in refused] == ["counsellor1.kaskinen", "doctor.laihia"]
    # The service's own counsellor holds without naming a referral.
    assert hold(client, auth, slot, None, "counsellor2.laihia").status_code == 201


def test_the_holder_books_with_the_hold(
    client: TestClient,
    auth: Auth,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    hold_id = hold(client, auth, slot, referral).json()["hold_id"]
    assert book(client, auth, slot, referral, hold_id=hold_id).status_code == 201


def test_an_idempotent_retry_books_once(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    key = {"Idempotency-Key": "book-1"}
    first = book(client, auth, slot, referral, headers=key)
    retry = book(client, auth, slot, referral, headers=key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    count = session.scalars(
        select(Appointment).where(Appointment.slot_id == uuid.UUID(slot["id"]))
    ).all()
    assert len(count) == 1


def test_cancel_frees_the_slot_and_knows_late_cancellations(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    appointment = book(client, auth, slot, referral).json()
    body = {"cancelled_by": "patient", "reason": "Sairastui."}
    cancelled = client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json=body,
        headers=auth("counsellor2.laihia"),
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == (
        "cancelled",
        "patient",
    )
    assert cancelled.json()["late_cancellation"] is False
    assert slot["id"] in [s["id"] for s in search(client, auth, service_id, limit=200)]
    twice = client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel", json=body, headers=auth("doctor.laihia")
    )
    assert twice.json()["code"] == "appointment_not_booked"
    soon = book(client, auth, slot, referral).json()
    session.execute(
        update(Appointment)
        .where(Appointment.id == uuid.UUID(soon["id"]))
        .values(start_at=utcnow() + timedelta(hours=3), end_at=utcnow() + timedelta(hours=4))
    )
    session.flush()
    late = client.post(
        f"/api/v1/appointments/{soon['id']}/cancel", json=body, headers=auth("doctor.laihia")
    )
    assert late.json()["late_cancellation"] is True


def test_reschedule_moves_atomically(
    client: TestClient,
    auth: Auth,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    first, second = search(client, auth, service_id, visit_type="first_visit")[:2]
    appointment = book(client, auth, first, referral).json()
    moved = client.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json={"slot_id": second["id"]},
        headers=auth("doctor.laihia"),
    )
    assert moved.status_code == 200, moved.text
    old = client.get(
        f"/api/v1/appointments/{appointment['id']}", headers=auth("doctor.laihia")
    ).json()
    assert (old["status"], old["rescheduled_to"]) == ("cancelled", moved.json()["id"])
    # Into a taken slot: refused, and the appointment stays where it is.
    taken = book(client, auth, first, referral).json()
    refused = client.post(
        f"/api/v1/appointments/{moved.json()['id']}/reschedule",
        json={"slot_id": first["id"]},
        headers=auth("doctor.laihia"),
    )
    assert refused.status_code == 409
    kept = client.get(
        f"/api/v1/appointments/{moved.json()['id']}", headers=auth("doctor.laihia")
    ).json()
    assert kept["status"] == "booked"
    assert taken["status"] == "booked"


def test_marking_attended_and_no_show(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    first, second = search(client, auth, service_id, visit_type="follow_up")[:2]
    a = book(client, auth, first, referral).json()
    b = book(client, auth, second, referral).json()
    early = client.post(f"/api/v1/appointments/{a['id']}/attended", headers=auth(COUNSELLOR))
    assert early.json()["code"] == "appointment_not_started"
    for hours, appointment in enumerate((a, b)):
        past = utcnow() - timedelta(days=3, hours=hours)
        session.execute(
            update(Appointment)
            .where(Appointment.id == uuid.UUID(appointment["id"]))
            .values(start_at=past, end_at=past + timedelta(minutes=30))
        )
    session.flush()
    flagged = client.get(
        "/api/v1/appointments", params={"needs_marking": "true"}, headers=auth(COUNSELLOR)
    )
    assert {x["id"] for x in flagged.json()["items"]} == {a["id"], b["id"]}
    assert all(x["needs_marking"] for x in flagged.json()["items"])
    assert (
        client.post(
            f"/api/v1/appointments/{a['id']}/attended", headers=auth("doctor.laihia")
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/appointments/{a['id']}/attended", headers=auth(COUNSELLOR)).json()[
            "status"
        ]
        == "attended"
    )
    assert (
        client.post(f"/api/v1/appointments/{b['id']}/no-show", headers=auth(COUNSELLOR)).json()[
            "status"
        ]
        == "no_show"
    )
    actions = [
        e["action"]
        for e in client.get(
            f"/api/v1/referrals/{referral['id']}/events", headers=auth(COUNSELLOR)
        ).json()["items"]
    ]
    assert actions[-2:] == ["appointment_attended", "appointment_no_show"]


def test_rule_changes_never_drop_a_booking(
    client: TestClient,
    auth: Auth,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    appointment = book(client, auth, slot, referral).json()
    emptied = client.put(
        f"/api/v1/counsellors/{counsellor_id}/availability",
        json={"rules": [], "exceptions": []},
        headers=auth(COUNSELLOR),
    ).json()
    assert [c["appointment_id"] for c in emptied["conflicts"]] == [appointment["id"]]
    assert emptied["slots_withdrawn"] > 0
    assert search(client, auth, service_id) == []
    kept = client.get(
        f"/api/v1/appointments/{appointment['id']}", headers=auth("doctor.laihia")
    ).json()
    assert kept["status"] == "booked"


def test_refusals(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    for user in ("statistician.region", "auditor.region", "admin.region", "patient-system"):
        assert (
            client.get(
                "/api/v1/slots", params={"service_id": str(service_id)}, headers=auth(user)
            ).status_code
            == 403
        )
        assert hold(client, auth, slot, None, user).status_code == 403
        assert book(client, auth, slot, referral, user=user).status_code == 403
    # Counsellors and clinicians outside the referral's circle do not know it.
    for user in ("counsellor1.kaskinen", "doctor.isokyro"):
        assert book(client, auth, slot, referral, user=user).status_code == 404
    appointment = book(client, auth, slot, referral).json()
    for user in ("counsellor1.kaskinen", "doctor.isokyro", "statistician.region", "auditor.region"):
        url = f"/api/v1/appointments/{appointment['id']}"
        assert client.get(url, headers=auth(user)).status_code == 404
        body = {"cancelled_by": "provider", "reason": "x"}
        assert client.post(f"{url}/cancel", json=body, headers=auth(user)).status_code == 404
    listed = client.get("/api/v1/appointments", headers=auth("counsellor1.kaskinen")).json()
    assert appointment["id"] not in [a["id"] for a in listed["items"]]


def test_a_slot_of_another_service_and_a_closed_referral_are_refused(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
) -> None:
    slot = search(client, auth, service_id)[0]
    kaskinen = send_referral(
        client, auth, demo_patient(session, "231").id, sender="doctor.kaskinen"
    )
    wrong = book(client, auth, slot, kaskinen, user="doctor.kaskinen")
    assert wrong.json()["code"] == "slot_of_another_service"
    closed = send_referral(client, auth, demo_patient(session, "399").id)
    body = {"cancelled_by": "patient", "reason_code": "patient_declined", "reason_text": "x"}
    assert act(client, auth, "doctor.laihia", closed, "cancel", body).status_code == 200
    assert book(client, auth, slot, closed).json()["code"] == "referral_not_bookable"


def booked_beside_an_overlap(
    client: TestClient,
    auth: Auth,
    session: Session,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A first visit booked, a follow-up starting with it, and the booked appointment's values
    but its id, slot and creation time."""
    slots = search(client, auth, service_id, limit=200)
    first = next(s for s in slots if s["visit_type"] == "first_visit")
    overlapping = next(
        s for s in slots
        if s["visit_type"] == "follow_up" and s["start_at"] == first["start_at"]
    )  # fmt: skip
    existing = session.get_one(
        Appointment, uuid.UUID(book(client, auth, first, referral).json()["id"])
    )
    values = {
        column.key: getattr(existing, column.key)
        for column in Appointment.__table__.columns
        if column.key not in ("id", "slot_id", "created_at")
    }
    return first, overlapping, values


def test_the_database_itself_refuses_overlapping_bookings(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    _first, overlapping, values = booked_beside_an_overlap(
        client, auth, session, service_id, referral
    )
    twin = Appointment(**values, slot_id=uuid.UUID(overlapping["id"]))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(twin)


def test_a_place_refused_by_the_database_leaves_the_transaction_usable(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    """Booking takes its place without a savepoint: the count past capacity and an overlap
    the database forbids are refused without an error, so the refusal can still be audited."""
    first, overlapping, values = booked_beside_an_overlap(
        client, auth, session, service_id, referral
    )
    full = session.get_one(Slot, uuid.UUID(first["id"]))
    assert (
        repository.take_place(session, full, {**values, "id": uuid.uuid4(), "slot_id": full.id})
        is None
    )
    assert full.booked_count == 1
    other = session.get_one(Slot, uuid.UUID(overlapping["id"]))
    twin = {**values, "id": uuid.uuid4(), "slot_id": other.id}
    assert repository.take_place(session, other, twin) is None
    assert session.get(Appointment, twin["id"]) is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) is not None


def test_the_calendar_feed_behind_a_revocable_token(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id, visit_type="first_visit")[0]
    appointment = book(client, auth, slot, referral).json()
    url = f"/api/v1/counsellors/{counsellor_id}/calendar-token"
    assert client.post(url, headers=auth("counsellor2.laihia")).status_code == 404
    feed_url = client.post(url, headers=auth(COUNSELLOR)).json()["url"]
    feed = client.get(feed_url)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"{appointment['id']}@askel"]
    assert events[0].decoded("dtstart") == datetime.fromisoformat(appointment["start_at"])
    patient = demo_patient(session, "399")
    for secret in (patient.family_name, patient.given_name, str(patient.id), referral["id"]):
        assert secret not in feed.text
    assert client.post(f"{url}/revoke", headers=auth(COUNSELLOR)).status_code == 204
    assert client.get(feed_url).status_code == 404
    assert client.get(feed_url.replace("token=", "token=x")).status_code == 404


def test_a_closed_referral_frees_its_future_appointments(
    client: TestClient,
    auth: Auth,
    session: Session,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slot = search(client, auth, service_id)[0]
    appointment = book(client, auth, slot, referral).json()
    current = client.get(
        f"/api/v1/referrals/{referral['id']}", headers=auth("doctor.laihia")
    ).json()
    body = {
        "cancelled_by": "patient",
        "reason_code": "patient_declined",
        "reason_text": "Ei halua.",
        "cancel_booked_appointments": True,
    }
    assert act(client, auth, "doctor.laihia", current, "cancel", body).status_code == 200
    freed = client.get(
        f"/api/v1/appointments/{appointment['id']}", headers=auth("doctor.laihia")
    ).json()
    assert (freed["status"], freed["cancelled_by"]) == ("cancelled", "provider")
    assert slot["id"] in [s["id"] for s in search(client, auth, service_id, limit=200)]
    moved = client.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json={"slot_id": slot["id"]},
        headers=auth("doctor.laihia"),
    )
    assert moved.json()["code"] == "referral_not_bookable"


def test_holds_are_capped_and_a_new_one_replaces_ones_own(
    client: TestClient,
    auth: Auth,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    slots = search(client, auth, service_id, visit_type="first_visit", limit=10)
    statuses = [hold(client, auth, slot, referral).status_code for slot in slots[:3]]
    assert statuses == [201, 201, 201]
    # Again on the same slot: replaces, still three.
    assert hold(client, auth, slots[0], referral).status_code == 201
    refused = hold(client, auth, slots[3], referral)
    assert (refused.status_code, refused.json()["code"]) == (409, "too_many_holds")


def test_outsiders_cannot_touch_appointments_or_availability(
    client: TestClient,
    auth: Auth,
    counsellor_id: uuid.UUID,
    service_id: uuid.UUID,
    referral: dict[str, Any],
) -> None:
    first, second = search(client, auth, service_id, visit_type="first_visit")[:2]
    appointment = book(client, auth, first, referral).json()
    url = f"/api/v1/appointments/{appointment['id']}"
    for user in ("counsellor1.kaskinen", "doctor.isokyro", "statistician.region", "auditor.region",
                 "admin.laihia", "patient-system"):  # fmt: skip
        headers = auth(user)
        assert (
            client.post(
                f"{url}/reschedule", json={"slot_id": second["id"]}, headers=headers
            ).status_code
            == 404
        )
        assert client.post(f"{url}/attended", headers=headers).status_code == 404
        assert client.post(f"{url}/no-show", headers=headers).status_code == 404
        availability = f"/api/v1/counsellors/{counsellor_id}/availability"
        assert client.get(availability, headers=headers).status_code == 404
        listed = client.get("/api/v1/appointments", headers=headers)
        assert listed.status_code == 403 or appointment["id"] not in [
            a["id"] for a in listed.json()["items"]
        ]


def test_the_calendar_feed_ends_with_the_account(
    client: TestClient, auth: Auth, session: Session, counsellor_id: uuid.UUID
) -> None:
    feed = client.post(
        f"/api/v1/counsellors/{counsellor_id}/calendar-token", headers=auth(COUNSELLOR)
    )
    url = feed.json()["url"]
    assert client.get(url).status_code == 200
    session.get_one(User, counsellor_id).active = False
    session.flush()
    assert client.get(url).status_code == 404
