"""Notices and reminders: queued with the booking, sent after commit by the worker through the
channel, in the patient's language; failures retried, then dead-lettered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
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
