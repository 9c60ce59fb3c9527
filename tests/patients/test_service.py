"""`find_or_register`: a patient found by identity code or registered from the chart's data, each
way audited; the chart's security prohibition and recorded sex replace Askel's; two at once make
one patient."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import db
from app.access.audit.models import AuditEvent
from app.access.principal import LOCAL_ISSUER, Principal, Role
from app.patients import repository, service
from app.patients.hetu import make_hetu
from app.patients.models import Patient
from app.patients.protection import unseal
from app.patients.schemas import PatientCreate
from tests.fixtures.databases import fresh_database_url
from tests.referrals.test_concurrency import race

CHART = Principal("patient-system", "region", frozenset({Role.integration}), LOCAL_ISSUER)


def chart_data(hetu: str, **changes: Any) -> PatientCreate:
    fields: dict[str, Any] = {
        "hetu": hetu,
        "given_name": "Mikael",
        "family_name": "Virtanen",
        "home_municipality_code": "231",
        "language": "sv",
        "phone": "+358401234567",
        "security_prohibition": False,
    }
    fields.update(changes)
    return PatientCreate.model_validate(fields)


def audit_trail(session: Session, patient_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    """The patient's audit entries so far: action, resource type and actor."""
    session.flush()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.seq)
    )
    return [(event.action, event.resource_type, event.actor) for event in events]


def test_an_unknown_patient_is_registered_from_the_chart(session: Session) -> None:
    hetu = make_hetu(date(1984, 6, 12), 941)
    data = chart_data(hetu, security_prohibition=True)
    patient, registered = service.find_or_register(session, CHART, data)
    assert registered
    assert unseal(patient.hetu_ciphertext, patient.id) == hetu
    assert (patient.given_name, patient.family_name, patient.home_municipality_code,
            patient.language, patient.phone, patient.security_prohibition) == (
        "Mikael", "Virtanen", "231", "sv", "+358401234567", True)  # fmt: skip
    assert audit_trail(session, patient.id) == [("create", "Patient", "patient-system")]


def test_a_known_patient_is_found_and_keeps_what_askel_holds(session: Session) -> None:
    hetu = make_hetu(date(1984, 6, 12), 943)
    first, _ = service.find_or_register(session, CHART, chart_data(hetu))
    data = chart_data(hetu, given_name="Mikko", home_municipality_code="399", phone=None)
    found, registered = service.find_or_register(session, CHART, data)
    assert not registered
    assert found.id == first.id
    assert (found.given_name, found.home_municipality_code, found.phone) == (
        "Mikael", "231", "+358401234567")  # fmt: skip
    assert audit_trail(session, first.id) == [
        ("create", "Patient", "patient-system"),
        ("query", "Patient", "patient-system"),  # as a look-up by identity code is
    ]
    count = select(func.count()).select_from(Patient).where(Patient.id == first.id)
    assert session.scalar(count) == 1


@pytest.mark.parametrize(("stored", "charted"), [(False, True), (True, False)])
def test_the_charts_security_prohibition_replaces_a_differing_one(
    session: Session, stored: bool, charted: bool
) -> None:
    hetu = make_hetu(date(1975, 2, 3), 945)
    first, _ = service.find_or_register(
        session, CHART, chart_data(hetu, security_prohibition=stored)
    )
    found, registered = service.find_or_register(
        session, CHART, chart_data(hetu, security_prohibition=charted)
    )
    assert (found.id, registered) == (first.id, False)
    session.expire_all()
    stored_now = session.get(Patient, first.id)
    assert stored_now is not None
    assert stored_now.security_prohibition is charted
    assert audit_trail(session, first.id) == [
        ("create", "Patient", "patient-system"),
        ("query", "Patient", "patient-system"),
        ("update", "Patient", "patient-system"),
    ]


@pytest.mark.parametrize("prohibition", [False, True])
def test_the_same_prohibition_changes_nothing(session: Session, prohibition: bool) -> None:
    hetu = make_hetu(date(1975, 2, 3), 947)
    data = chart_data(hetu, security_prohibition=prohibition)
    first, _ = service.find_or_register(session, CHART, data)
    found, _ = service.find_or_register(session, CHART, data)
    assert found.security_prohibition is prohibition
    assert [action for action, _, _ in audit_trail(session, first.id)] == ["create", "query"]


@pytest.mark.parametrize(("stored", "charted", "kept"), [
    ("unknown", "female", "female"),
    ("male", "other", "other"),
    ("female", "unknown", "female"),  # a chart recording none changes none
    ("male", "male", "male"),
])  # fmt: skip
def test_the_charts_recorded_sex_replaces_a_differing_one(
    session: Session, stored: str, charted: str, kept: str
) -> None:
    hetu = make_hetu(date(1975, 2, 3), 949)
    first, _ = service.find_or_register(session, CHART, chart_data(hetu, sex=stored))
    assert first.sex == stored
    found, _ = service.find_or_register(session, CHART, chart_data(hetu, sex=charted))
    session.expire_all()
    stored_now = session.get(Patient, found.id)
    assert stored_now is not None
    assert stored_now.sex == kept
    actions = [action for action, _, _ in audit_trail(session, first.id)]
    assert actions == ["create", "query", *(["update"] if kept != stored else [])]


def test_a_registration_between_the_check_and_the_insert_is_found(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else registers the code after our check saw none: our insert meets theirs in the
    unique index, and the patient is theirs, with the chart's prohibition."""
    hetu = make_hetu(date(1990, 9, 9), 949)
    theirs = service.register(session, CHART, chart_data(hetu))
    by_hetu_hash = repository.by_hetu_hash
    checks: list[str] = []

    def check_before_theirs(session: Session, hetu_hash: str) -> Patient | None:
        checks.append(hetu_hash)
        return None if len(checks) == 1 else by_hetu_hash(session, hetu_hash)

    monkeypatch.setattr(repository, "by_hetu_hash", check_before_theirs)
    found, registered = service.find_or_register(
        session, CHART, chart_data(hetu, security_prohibition=True)
    )
    assert (found.id, registered, found.security_prohibition) == (theirs.id, False, True)
    assert len(checks) == 3  # the check that missed, the winner after the insert, the look-up
    assert session.scalar(select(func.count()).select_from(Patient).where(
        Patient.hetu_hash == theirs.hetu_hash)) == 1  # fmt: skip
    assert [action for action, _, _ in audit_trail(session, theirs.id)] == [
        "create", "query", "update"]  # fmt: skip


def test_two_registering_the_same_code_at_once_make_one_patient(
    tmp_path: Path, worker_id_suffix: str
) -> None:
    """On a database that really commits: two launches for a patient Askel does not know yet."""
    url = fresh_database_url(tmp_path, f"askel_patient_race_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    try:
        for individual in range(951, 955):
            hetu = make_hetu(date(1966, 1, 1), individual)

            def launch(hetu: str = hetu) -> int:
                with database.write_sessions() as session, session.begin():
                    _, registered = service.find_or_register(session, CHART, chart_data(hetu))
                    return int(registered)

            assert sorted(race(launch, launch)) == [0, 1]
        with database.read_sessions() as session:
            assert session.scalar(select(func.count()).select_from(Patient)) == 4
            actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        assert sorted(actions) == ["create"] * 4 + ["query"] * 4
    finally:
        database.dispose()
