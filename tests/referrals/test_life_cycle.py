"""A referral's life through HTTP with real development-issuer tokens: sent, received,
accepted, in progress, completed; the timeline the referrer reads; every illegal transition."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.jobs.models import OutboxEvent
from app.referrals.states import TRANSITIONS, Action, Status
from tests.fixtures.factories import act, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"
REASON = {"reason_code": "goals_met", "reason_text": "Liikkuu 200 min/vko."}
COMPLETE = {**REASON, "outcome_summary": "Kuusi käyntiä; liikunta 40 → 200 min/vko."}


def open_as(client: TestClient, auth: Auth, user: str, referral_id: str) -> Any:
    return client.get(f"/api/v1/referrals/{referral_id}", headers=auth(user))


def test_the_whole_path(client: TestClient, auth: Auth, session: Session) -> None:
    patient = demo_patient(session, "399")
    sent = send_referral(client, auth, patient.id)
    assert sent["status"] == "sent"
    assert sent["version"] == 1
    assert sent["referrer"]["subject"] == "doctor.laihia"
    assert set(sent["allowed_actions"]) == {"cancel", "book_by_service"}

    opened = open_as(client, auth, COUNSELLOR, sent["id"])
    assert opened.status_code == 200
    received = opened.json()
    assert received["status"] == "received"
    assert opened.headers["etag"] == f'"{received["version"]}"'
    assert set(received["allowed_actions"]) == {"accept", "reject", "return", "cancel"}

    accepted = act(client, auth, COUNSELLOR, received, "accept")
    assert accepted.status_code == 200, accepted.text
    started = act(client, auth, COUNSELLOR, accepted.json(), "start")
    assert started.json()["status"] == "in_progress"
    completed = act(client, auth, COUNSELLOR, started.json(), "complete", COMPLETE)
    assert completed.status_code == 200, completed.text
    final = completed.json()
    assert final["status"] == "completed"
    assert final["outcome_summary"].startswith("Kuusi käyntiä")
    assert final["status_reason"] == {"code": "goals_met", "text": "Liikkuu 200 min/vko."}
    assert final["allowed_actions"] == []

    # The referrer reads the closed loop.
    timeline = client.get(f"/api/v1/referrals/{sent['id']}/events", headers=auth("doctor.laihia"))
    events = timeline.json()["items"]
    steps = [(e["action"], e["from_status"], e["to_status"]) for e in events]
    assert steps == [
        ("send", None, "sent"),
        ("receive", "sent", "received"),
        ("accept", "received", "accepted"),
        ("start", "accepted", "in_progress"),
        ("complete", "in_progress", "completed"),
    ]
    assert events[-1]["actor"]["subject"] == COUNSELLOR
    assert events[-1]["reason_code"] == "goals_met"
    assert timeline.json()["next_cursor"] is None

    outbox = session.scalars(
        select(OutboxEvent.event_type)
        .where(OutboxEvent.aggregate_id == uuid.UUID(sent["id"]))
        .order_by(OutboxEvent.id)
    ).all()
    assert outbox == [f"referral.{action}" for action, _, _ in steps] + ["referral.outcome"]


def test_the_referrer_opening_it_leaves_it_sent(
    client: TestClient, auth: Auth, session: Session
) -> None:
    sent = send_referral(client, auth, demo_patient(session, "399").id)
    opened = open_as(client, auth, "nurse.laihia", sent["id"])
    assert opened.json()["status"] == "sent"


REASONS = {
    Action.reject: {"reason_code": "not_eligible", "reason_text": "Ei kriteerejä."},
    Action.return_: {"reason_code": "needs_physiotherapy_first", "reason_text": "Fysioterapia."},
    Action.cancel: {
        "cancelled_by": "patient",
        "reason_code": "patient_declined",
        "reason_text": "Ei halua.",
    },
    Action.complete: COMPLETE,
}
# How to bring a fresh referral into each status: the actions from `sent`.
PATHS = {
    Status.sent: [],
    Status.received: [Action.receive],
    Status.accepted: [Action.accept],
    Status.in_progress: [Action.accept, Action.start],
    Status.completed: [Action.accept, Action.start, Action.complete],
    Status.rejected: [Action.reject],
    Status.returned: [Action.return_],
    Status.cancelled: [Action.cancel],
}


def path(action: Action) -> str:
    return action.value.replace("_", "-")


def actor_for(action: Action) -> str:
    return "doctor.laihia" if action is Action.book_by_service else COUNSELLOR


def referral_in(client: TestClient, auth: Auth, session: Session, status: Status) -> Any:
    referral = send_referral(client, auth, demo_patient(session, "399").id)
    for action in PATHS[status]:
        if action is Action.receive:
            referral = open_as(client, auth, COUNSELLOR, referral["id"]).json()
            continue
        response = act(client, auth, actor_for(action), referral, path(action), REASONS.get(action))
        assert response.status_code == 200, response.text
        referral = response.json()
    assert referral["status"] == status
    return referral


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (action, status)
        for action in TRANSITIONS
        if action is not Action.receive
        for status in Status
        if status not in TRANSITIONS[action][0]
    ],
)
def test_every_illegal_transition_is_409(
    client: TestClient, auth: Auth, session: Session, action: Action, status: Status
) -> None:
    referral = referral_in(client, auth, session, status)
    response = act(client, auth, actor_for(action), referral, path(action), REASONS.get(action))
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["current_status"] == status.value


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("fi", "Lähete on tilassa peruttu: tämä toiminto ei ole nyt mahdollinen."),
        ("sv", "Remissen är avbokad: den här åtgärden är inte möjlig nu."),
        ("en", "The referral is cancelled: this action is not possible now."),
    ],
)
def test_illegal_transitions_are_explained_in_three_languages(
    client: TestClient, auth: Auth, session: Session, language: str, detail: str
) -> None:
    referral = referral_in(client, auth, session, Status.cancelled)
    headers = {
        **auth(COUNSELLOR),
        "If-Match": f'"{referral["version"]}"',
        "Accept-Language": language,
    }
    response = client.post(f"/api/v1/referrals/{referral['id']}/accept", headers=headers)
    assert response.json()["detail"] == detail


def test_cancelled_by_patient_and_by_provider_are_different_facts(
    client: TestClient, auth: Auth, session: Session
) -> None:
    by_patient = referral_in(client, auth, session, Status.cancelled)
    other = send_referral(client, auth, demo_patient(session, "399", 1).id)
    body = {
        **REASONS[Action.cancel],
        "cancelled_by": "provider",
        "reason_code": "service_unavailable",
    }
    by_provider = act(client, auth, "doctor.laihia", other, "cancel", body).json()
    assert (by_patient["cancelled_by"], by_provider["cancelled_by"]) == ("patient", "provider")


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("reject", {"reason_code": "goals_met", "reason_text": "x"}),  # a completion reason
        ("reject", {"reason_code": "no_such_reason", "reason_text": "x"}),
        ("return", {"reason_code": "not_eligible", "reason_text": "x"}),
    ],
)
def test_reasons_come_from_the_actions_own_list(
    client: TestClient, auth: Auth, session: Session, action: str, body: dict[str, str]
) -> None:
    referral = referral_in(client, auth, session, Status.received)
    response = act(client, auth, COUNSELLOR, referral, action, body)
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_reason_code"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason_code": "not_eligible"},
        {"reason_text": "x"},
        {"reason_code": "not_eligible", "reason_text": ""},
    ],
)
def test_reject_needs_a_coded_reason_and_text(
    client: TestClient, auth: Auth, session: Session, body: dict[str, str]
) -> None:
    referral = referral_in(client, auth, session, Status.received)
    response = act(client, auth, COUNSELLOR, referral, "reject", body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_complete_needs_an_outcome_summary(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = referral_in(client, auth, session, Status.in_progress)
    assert act(client, auth, COUNSELLOR, referral, "complete", REASON).status_code == 422


def test_a_stale_version_is_412_and_a_missing_one_428(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = referral_in(client, auth, session, Status.received)
    stale = act(client, auth, COUNSELLOR, referral, "accept", version=referral["version"] - 1)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert stale.json()["current_version"] == referral["version"]
    missing = client.post(f"/api/v1/referrals/{referral['id']}/accept", headers=auth(COUNSELLOR))
    assert missing.status_code == 428
    assert missing.json()["code"] == "precondition_required"
    weak = client.post(
        f"/api/v1/referrals/{referral['id']}/accept",
        headers={**auth(COUNSELLOR), "If-Match": f'W/"{referral["version"]}"'},
    )
    assert weak.status_code == 200


def test_no_slot_leaves_booking_to_the_service(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399").id, urgency="urgent")
    delegated = act(client, auth, "doctor.laihia", referral, "book-by-service")
    assert delegated.status_code == 200, delegated.text
    body = delegated.json()
    assert body["booking_by_service"] is True
    assert body["expected_contact_by"] is not None
    assert "book_by_service" not in body["allowed_actions"]
    worklist = client.get(
        "/api/v1/referrals", params={"booking_by_service": "true"}, headers=auth(COUNSELLOR)
    )
    assert [item["id"] for item in worklist.json()["items"]] == [referral["id"]]
    assert worklist.json()["items"][0]["expected_contact_by"] == body["expected_contact_by"]


def test_a_referral_sent_without_a_slot_is_on_the_booking_worklist(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399").id, book_by_service=True)
    assert (referral["booking_by_service"], referral["version"]) == (True, 1)
    # Routine: within 14 working days, i.e. more than a fortnight of calendar days away.
    assert date.fromisoformat(referral["expected_contact_by"]) >= date.today() + timedelta(days=18)
    worklist = client.get(
        "/api/v1/referrals", params={"booking_by_service": "true"}, headers=auth(COUNSELLOR)
    ).json()["items"]
    assert [item["id"] for item in worklist] == [referral["id"]]


def test_reason_lists_are_served_in_the_callers_language(client: TestClient, auth: Auth) -> None:
    headers = {**auth("doctor.laihia"), "Accept-Language": "sv"}
    reasons = client.get("/api/v1/referral-reasons", params={"kind": "return"}, headers=headers)
    texts = {r["code"]: r["text"] for r in reasons.json()["items"]}
    assert texts["needs_physiotherapy_first"] == "Fysioterapi behövs först"
    assert all(r["kind"] == "return" for r in reasons.json()["items"])


def test_refused_writes_are_audited_with_the_referral(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = referral_in(client, auth, session, Status.received)
    url = f"/api/v1/referrals/{referral['id']}/accept"
    attempts = [
        client.post(url, headers=auth(COUNSELLOR)),  # 428: no version
        act(client, auth, COUNSELLOR, referral, "accept", version=99),  # 412: stale
        act(client, auth, COUNSELLOR, referral, "start"),  # 409: not accepted yet
    ]
    assert [r.status_code for r in attempts] == [428, 412, 409]
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(3)).all()
    assert [e.outcome for e in reversed(events)] == ["refused", "conflict", "conflict"]
    assert {(e.resource_id, str(e.patient_id)) for e in events} == {
        (referral["id"], referral["patient_id"])
    }
