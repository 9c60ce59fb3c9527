"""Notices and reminders: queued with the booking, sent after commit by the worker through the
channel, in the patient's language; failures retried, then dead-lettered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.jobs.models import OutboxEvent
from app.jobs.worker import MAX_ATTEMPTS, run_once
from app.kit.clock import utcnow
from app.notices import service as notices
from app.notices.channel import FileChannel, HttpChannel
from app.scheduling.models import Appointment
from tests.fixtures.factories import demo_patient, send_referral
from tests.scheduling.test_booking import RULES, book, search, user_id

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def booked(client: TestClient, auth: Auth, session: Session) -> dict[str, Any]:
    counsellor = user_id(session, "counsellor1.laihia")
    client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": RULES},
        headers=auth("counsellor1.laihia"),
    )
    patient = demo_patient(session, "399")
    patient.phone, patient.language = "+358401112223", "sv"
    session.flush()
    referral = send_referral(client, auth, patient.id)
    slot = search(client, auth, uuid.UUID(referral["service_id"]))[2]
    appointment: dict[str, Any] = book(client, auth, slot, referral).json()
    return appointment


def queued(session: Session, appointment_id: str) -> list[OutboxEvent]:
    statement = select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(appointment_id))
    return list(session.scalars(statement.order_by(OutboxEvent.id)))


def test_booking_queues_a_notice_now_and_a_reminder_the_day_before(
    session: Session, booked: dict[str, Any]
) -> None:
    events = queued(session, booked["id"])
    assert [e.event_type for e in events] == ["notice.booked", "notice.reminder"]
    start = events[1].next_attempt_at + timedelta(hours=24)
    assert (
        start.isoformat()[:16]
        == utcnow().fromisoformat(booked["start_at"]).astimezone(start.tzinfo).isoformat()[:16]
    )


def test_the_worker_sends_in_the_patients_language(
    app: FastAPI, session: Session, booked: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "notices.jsonl"
    channel = FileChannel(out)
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, channel)}
    assert run_once(app.state.db, handlers) == 1  # the reminder is not due yet
    sent = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(sent) == 1
    assert sent[0]["to"] == "+358401112223"
    assert sent[0]["text"].startswith("Motionsrådgivning: din tid är")
    assert "Laihian liikuntahalli" in sent[0]["text"]
    later = utcnow() + timedelta(days=200)
    assert run_once(app.state.db, handlers, now=later) == 1
    assert "Påminnelse" in out.read_text().splitlines()[-1]
    assert all(e.published_at for e in queued(session, booked["id"]))


def test_a_cancelled_appointment_gets_no_reminder(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    session: Session,
    booked: dict[str, Any],
    tmp_path: Path,
) -> None:
    body = {"cancelled_by": "patient", "reason": "x"}
    client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json=body, headers=auth("doctor.laihia")
    )
    out = tmp_path / "notices.jsonl"
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, FileChannel(out))}
    run_once(app.state.db, handlers, now=utcnow() + timedelta(days=200))
    texts = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert len(texts) == 2
    assert "avbokad" in texts[1]
    assert not any("Påminnelse" in text for text in texts)


def sent_texts(out: Path) -> list[str]:
    return [json.loads(line)["text"] for line in out.read_text().splitlines()]


@pytest.fixture
def worker(app: FastAPI, tmp_path: Path) -> Callable[..., list[str]]:
    """Runs the notice worker once (now, or at the moment given); every text sent so far."""
    out = tmp_path / "notices.jsonl"
    out.touch()
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, FileChannel(out))}

    def run(now: Any = None) -> list[str]:
        run_once(app.state.db, handlers, now=now)
        return sent_texts(out)

    return run


def test_a_cancellation_goes_out_at_once_and_its_reminder_is_withdrawn(
    client: TestClient,
    auth: Auth,
    session: Session,
    booked: dict[str, Any],
    worker: Callable[..., list[str]],
) -> None:
    body = {"cancelled_by": "patient", "reason": "x"}
    url = f"/api/v1/appointments/{booked['id']}/cancel"
    assert client.post(url, json=body, headers=auth("doctor.laihia")).status_code == 200
    # The reminder queued with the booking is due only the day before the visit: it neither
    # holds the cancellation back nor waits to be sent.
    assert [e.event_type for e in queued(session, booked["id"])] == [
        "notice.booked",
        "notice.cancelled",
    ]
    texts = worker()
    assert len(texts) == 2
    assert texts[0].startswith("Motionsrådgivning: din tid är")
    assert "avbokad" in texts[1]
    assert worker(utcnow() + timedelta(days=200)) == texts


def test_a_moved_appointment_is_told_at_once_and_reminded_once_at_its_new_time(
    client: TestClient,
    auth: Auth,
    session: Session,
    booked: dict[str, Any],
    worker: Callable[..., list[str]],
) -> None:
    slots = search(client, auth, uuid.UUID(booked["service_id"]))
    later = next(slot for slot in slots if slot["start_at"] > booked["end_at"])
    moved = client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"slot_id": later["id"]},
        headers=auth("doctor.laihia"),
    )
    assert moved.status_code == 200, moved.text
    assert [e.event_type for e in queued(session, booked["id"])] == ["notice.booked"]
    texts = worker()
    assert len(texts) == 2
    assert "din tid är flyttad" in texts[1]
    reminders = [t for t in worker(utcnow() + timedelta(days=200)) if "Påminnelse" in t]
    new_start = datetime.fromisoformat(moved.json()["start_at"])
    when = f"{new_start:%d.%m.%Y} kl. {new_start:%H.%M}"
    assert reminders == [f"Påminnelse: motionsrådgivning {when}, {later['location']}."]


def test_notices_that_are_due_go_in_the_order_they_were_queued(
    app: FastAPI, session: Session, booked: dict[str, Any], worker: Callable[..., list[str]]
) -> None:
    appointment = session.get_one(Appointment, uuid.UUID(booked["id"]))
    notices.queue(session, appointment, "rescheduled", utcnow())
    session.flush()
    texts = worker()
    assert [text.split(":")[0] for text in texts] == ["Motionsrådgivning", "Motionsrådgivning"]
    assert "din tid är flyttad" in texts[1]


def test_a_failing_gateway_is_retried_then_dead_lettered(
    app: FastAPI, session: Session, booked: dict[str, Any]
) -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    channel = HttpChannel(
        "https://sms.test/send", "key", httpx.Client(transport=httpx.MockTransport(refuse))
    )
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, channel)}
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        run_once(app.state.db, handlers, now=moment)
        moment += timedelta(minutes=5)
    first = queued(session, booked["id"])[0]
    session.refresh(first)
    assert first.attempts == MAX_ATTEMPTS
    assert first.dead_lettered_at is not None
    assert "503" in (first.last_error or "")
    assert calls[0].headers["idempotency-key"] == f"askel-{first.id}"
    assert json.loads(calls[0].content)["to"] == "+358401112223"
