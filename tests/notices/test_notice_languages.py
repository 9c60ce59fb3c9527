"""The language of a notice: the patient's own where Askel has it (English too), Finnish and
Swedish both for one it has not; the place named in the language of each text."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.jobs.worker import run_once
from app.notices import service as notices
from app.notices.channel import FileChannel
from app.notices.messages import notice_languages, render
from tests.fixtures.factories import demo_patient, send_referral
from tests.scheduling.test_booking import RULES, book, search, user_id

Auth = Callable[[str], dict[str, str]]
# Kaskinen is bilingual: its hall has a Swedish name in the demo's data.
HALL_FI, HALL_SV = "Kaskinen liikuntahalli", "Kaskö idrottshall"
NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("registered", "written"),
    [("fi", ("fi",)), ("sv", ("sv",)), ("en", ("en",)), ("sv-FI", ("sv",)), ("EN", ("en",)),
     ("ar", ("fi", "sv")), ("ru", ("fi", "sv")), ("", ("fi", "sv"))],
)  # fmt: skip
def test_the_languages_a_notice_is_written_in(registered: str, written: tuple[str, ...]) -> None:
    assert notice_languages(registered) == written


def test_an_english_speaker_gets_english() -> None:
    text = render("booked", "en", NOON, lambda _language: HALL_FI)
    assert text == (
        f"Physical-activity counselling: your appointment is on 01.12.2026 at 12.00, {HALL_FI}."
    )


def test_a_language_askel_has_not_gets_finnish_and_swedish() -> None:
    text = render("booked", "ar", NOON, {"fi": HALL_FI, "sv": HALL_SV}.__getitem__)
    finnish, swedish = text.split("\n")
    assert finnish.startswith("Liikuntaneuvonta")
    assert HALL_FI in finnish
    assert swedish.startswith("Motionsrådgivning")
    assert HALL_SV in swedish


def book_at_the_hall(
    client: TestClient, auth: Auth, session: Session, language: str
) -> dict[str, Any]:
    """A Kaskinen patient of `language` booked at the hall Kaskinen's counsellor works in."""
    counsellor = user_id(session, "counsellor1.kaskinen")
    rules = [{**rule, "location": HALL_FI} for rule in RULES]
    answer = client.put(
        f"/api/v1/counsellors/{counsellor}/availability",
        json={"rules": rules},
        headers=auth("counsellor1.kaskinen"),
    )
    assert answer.status_code == 200, answer.text
    patient = demo_patient(session, "231")
    patient.phone, patient.language = "+358401112224", language
    session.flush()
    referral = send_referral(client, auth, patient.id, sender="doctor.kaskinen")
    slot = search(client, auth, uuid.UUID(referral["service_id"]), user="doctor.kaskinen")[0]
    booked = book(client, auth, slot, referral, user="doctor.kaskinen")
    assert booked.status_code == 201, booked.text
    appointment: dict[str, Any] = booked.json()
    return appointment


def deliver_booking(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, language: str, path: Path
) -> list[dict[str, Any]]:
    """The notices the worker sends of a booking at the hall."""
    book_at_the_hall(client, auth, session, language)
    channel = FileChannel(path)
    handlers = {notices.PREFIX: lambda s, e: notices.deliver(s, e, channel)}
    assert run_once(app.state.db, handlers) == 1
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_swedish_speaker_reads_the_swedish_name_of_the_place(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, tmp_path: Path
) -> None:
    [sent] = deliver_booking(app, client, auth, session, "sv", tmp_path / "n.jsonl")
    assert sent["language"] == "sv"
    assert sent["text"].startswith("Motionsrådgivning: din tid är")
    assert HALL_SV in sent["text"]
    assert HALL_FI not in sent["text"]


def test_an_english_speaker_is_told_in_english(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, tmp_path: Path
) -> None:
    [sent] = deliver_booking(app, client, auth, session, "en", tmp_path / "n.jsonl")
    assert sent["language"] == "en"
    assert sent["text"].startswith("Physical-activity counselling: your appointment is on")
    assert HALL_FI in sent["text"]


def test_a_speaker_of_another_language_is_told_in_both_national_languages(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, tmp_path: Path
) -> None:
    [sent] = deliver_booking(app, client, auth, session, "ar", tmp_path / "n.jsonl")
    assert sent["language"] == "mul"
    finnish, swedish = sent["text"].split("\n")
    assert finnish.startswith("Liikuntaneuvonta")
    assert HALL_FI in finnish
    assert swedish.startswith("Motionsrådgivning")
    assert HALL_SV in swedish
