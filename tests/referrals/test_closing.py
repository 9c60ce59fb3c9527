"""Closing a referral with appointments still to come: never silently. Without the caller's
confirmation it is refused with the appointments listed; with it, they are cancelled, told to
the patient at once, listed in the answer and on the timeline."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.jobs.models import OutboxEvent
from app.kit.clock import HELSINKI
from app.referrals.states import Action, Status
from app.scheduling.models import Appointment
from tests.fixtures.factories import act, demo_patient, send_referral
from tests.referrals.test_life_cycle import COMPLETE, REASONS, referral_in
from tests.scheduling.test_booking import RULES, book, search, user_id

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"
CANCEL = REASONS[Action.cancel]


@pytest.fixture
def two_booked(client: TestClient, auth: Auth, session: Session) -> list[dict[str, Any]]:
    """Two future appointments of one accepted referral: the first visit and a follow-up."""
    counsellor = user_id(session, COUNSELLOR)
    response = client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": RULES},
        headers=auth(COUNSELLOR),
    )
    assert response.status_code == 200, response.text
    referral = send_referral(client, auth, demo_patient(session, "399", 3).id)
    referral = act(client, auth, COUNSELLOR, referral, "accept").json()
    slots = search(client, auth, uuid.UUID(referral["service_id"]))
    first = book(client, auth, slots[0], referral).json()
    follow_up = next(slot for slot in slots if slot["start_at"] >= first["end_at"])
    second = book(client, auth, follow_up, referral, user=COUNSELLOR).json()
    return [first, second]


def current(client: TestClient, auth: Auth, referral_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/referrals/{referral_id}", headers=auth(COUNSELLOR))
    body: dict[str, Any] = response.json()
    return body


def statuses(session: Session, appointments: list[dict[str, Any]]) -> list[str]:
    return [
        session.get_one(Appointment, uuid.UUID(a["id"]), populate_existing=True).status
        for a in appointments
    ]


@pytest.mark.parametrize(
    ("user", "action", "body"),
    [("doctor.laihia", "cancel", CANCEL), (COUNSELLOR, "complete", COMPLETE)],
)
def test_closing_without_confirmation_is_refused_and_lists_what_is_booked(
    client: TestClient,
    auth: Auth,
    session: Session,
    two_booked: list[dict[str, Any]],
    user: str,
    action: str,
    body: dict[str, Any],
) -> None:
    referral_id = two_booked[0]["referral_id"]
    if action == "complete":
        act(client, auth, COUNSELLOR, current(client, auth, referral_id), "start")
    before = current(client, auth, referral_id)
    response = act(client, auth, user, before, action, body)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "appointments_booked"
    assert [a["id"] for a in problem["appointments"]] == [a["id"] for a in two_booked]
    assert [datetime.fromisoformat(a["start_at"]) for a in problem["appointments"]] == [
        datetime.fromisoformat(a["start_at"]) for a in two_booked
    ]
    assert problem["appointments"][0]["start_at"].endswith(("+02:00", "+03:00"))
    # Nothing changed.
    assert current(client, auth, referral_id)["status"] == before["status"]
    assert statuses(session, two_booked) == ["booked", "booked"]


def test_a_confirmed_closing_cancels_them_and_says_so_everywhere(
    client: TestClient, auth: Auth, session: Session, two_booked: list[dict[str, Any]]
) -> None:
    referral_id = two_booked[0]["referral_id"]
    body = {**CANCEL, "cancel_booked_appointments": True}
    before = current(client, auth, referral_id)
    response = act(client, auth, "doctor.laihia", before, "cancel", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "cancelled"
    assert [a["id"] for a in answer["cancelled_appointments"]] == [a["id"] for a in two_booked]
    assert statuses(session, two_booked) == ["cancelled", "cancelled"]

    events = client.get(
        f"/api/v1/referrals/{referral_id}/events", headers=auth("doctor.laihia")
    ).json()["items"]
    freed = [e for e in events if e["action"] == "appointment_cancelled"]
    assert [datetime.fromisoformat(e["reason_text"]) for e in freed] == [
        datetime.fromisoformat(a["start_at"]) for a in two_booked
    ]
    assert all(
        datetime.fromisoformat(e["reason_text"]).utcoffset()
        == datetime.fromisoformat(e["reason_text"]).astimezone(HELSINKI).utcoffset()
        for e in freed
    )
    told = session.scalars(
        select(OutboxEvent.event_type)
        .where(OutboxEvent.aggregate_id.in_([uuid.UUID(a["id"]) for a in two_booked]))
        .order_by(OutboxEvent.id)
    ).all()
    assert told.count("notice.cancelled") == 2
    assert "notice.reminder" not in told


@pytest.mark.parametrize("status", [Status.cancelled, Status.completed, Status.rejected])
def test_a_referral_with_nothing_booked_closes_without_confirmation(
    client: TestClient, auth: Auth, session: Session, status: Status
) -> None:
    referral = referral_in(client, auth, session, status)
    assert referral["cancelled_appointments"] == []


def test_timeline_times_are_helsinki_times(
    client: TestClient, auth: Auth, session: Session, two_booked: list[dict[str, Any]]
) -> None:
    events = client.get(
        f"/api/v1/referrals/{two_booked[0]['referral_id']}/events", headers=auth("doctor.laihia")
    ).json()["items"]
    booked = [e["reason_text"] for e in events if e["action"] == "appointment_booked"]
    assert booked == [a["start_at"] for a in two_booked]
    assert all(text.endswith(("+02:00", "+03:00")) for text in booked)
