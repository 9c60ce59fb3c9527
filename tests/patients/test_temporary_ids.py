"""Someone without a personal identity code yet: registered and found by the region's temporary
identifier, and identified when the code arrives, either by taking it or by being merged into
the patient who has it, with the audit trail of both records kept."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.jobs.models import OutboxEvent
from app.patients.hetu import make_hetu
from app.patients.models import Patient
from app.patients.protection import unseal_temporary
from app.patients.temporary_ids import TemporaryId
from app.referrals.models import Referral, ReferralEvent
from tests.fixtures.factories import send_referral

Auth = Callable[[str], dict[str, str]]
SYSTEM = "urn:oid:1.2.246.10.1234567.22.2026"
TEMPORARY = {"system": SYSTEM, "value": "000731"}
NEWCOMER = {
    "temporary_id": TEMPORARY,
    "birth_date": "1991-06-02",
    "sex": "female",
    "given_name": "Olena",
    "family_name": "Kovalenko",
    "home_municipality_code": "399",
    "language": "en",
}
CODE = make_hetu(date(1991, 6, 2), 926)  # a temporary-range individual number: test use only


def _register(client: TestClient, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/patients", json=body, headers=auth("nurse.laihia"))
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def _identify(client: TestClient, auth: Auth, hetu: str = CODE, user: str = "doctor.laihia") -> Any:
    body = {"temporary_id": TEMPORARY, "hetu": hetu}
    return client.post("/api/v1/patients/identify", json=body, headers=auth(user))


def _lookup(client: TestClient, auth: Auth, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/patients/lookup", json=body, headers=auth("doctor.laihia"))


def _error_code(response: Any) -> str:
    body = response.json()
    return str(body.get("errors", [{}])[0].get("code") or body["code"])


def test_someone_without_a_code_is_registered_by_their_temporary_identifier(
    client: TestClient, auth: Auth, session: Session
) -> None:
    response = client.post("/api/v1/patients", json=NEWCOMER, headers=auth("nurse.laihia"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["identified_by"] == "temporary_identifier"
    assert (body["birth_date"], body["sex"]) == ("1991-06-02", "female")
    assert "000731" not in response.text
    stored = session.get(Patient, uuid.UUID(body["id"]))
    assert stored is not None
    assert stored.hetu_hash is None
    assert stored.temporary_id_hash is not None
    assert "000731" not in stored.temporary_id_hash
    assert stored.temporary_id_ciphertext is not None
    assert b"000731" not in stored.temporary_id_ciphertext
    kept = unseal_temporary(stored.temporary_id_ciphertext, stored.id)
    assert (kept.system, kept.value) == (SYSTEM, "000731")
    assert "000731" not in repr(kept)
    found = _lookup(client, auth, {"temporary_id": TEMPORARY})
    assert found.status_code == 200, found.text
    assert found.json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"temporary_id": None}, "identity_required"),
        ({"birth_date": None}, "birth_date_required"),
        ({"temporary_id": {"system": "urn:oid:1.2.3", "value": "1"}},
         "not_a_temporary_identifier_system"),
        ({"temporary_id": {"system": SYSTEM, "value": "has spaces"}}, "string_pattern_mismatch"),
    ],
)  # fmt: skip
def test_a_registration_without_a_code_needs_what_the_code_would_give(
    client: TestClient, auth: Auth, change: dict[str, Any], code: str
) -> None:
    body = {key: value for key, value in {**NEWCOMER, **change}.items() if value is not None}
    response = client.post(
        "/api/v1/patients", json=body, headers={**auth("nurse.laihia"), "Accept-Language": "sv"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert code in response.text
    assert "000731" not in response.text


def test_the_same_temporary_identifier_is_registered_once(client: TestClient, auth: Auth) -> None:
    first = _register(client, auth, NEWCOMER)
    again = client.post("/api/v1/patients", json=NEWCOMER, headers=auth("doctor.laihia"))
    assert again.status_code == 409
    assert again.json()["patient_id"] == first["id"]


def test_a_lookup_names_one_identity(client: TestClient, auth: Auth) -> None:
    both = _lookup(client, auth, {"hetu": CODE, "temporary_id": TEMPORARY})
    assert both.status_code == 422
    assert "one_identity" in both.text
    assert _lookup(client, auth, {}).status_code == 422


def test_the_code_arriving_is_taken_by_the_temporary_record(
    client: TestClient, auth: Auth, session: Session
) -> None:
    newcomer = _register(client, auth, NEWCOMER)
    referral = send_referral(client, auth, uuid.UUID(newcomer["id"]))
    response = _identify(client, auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == newcomer["id"]
    assert body["identified_by"] == "identity_code"
    assert CODE not in response.text
    by_code = _lookup(client, auth, {"hetu": CODE})
    by_temporary = _lookup(client, auth, {"temporary_id": TEMPORARY})
    assert by_code.json()["id"] == by_temporary.json()["id"] == newcomer["id"]
    update = session.scalars(
        select(AuditEvent).where(
            AuditEvent.patient_id == uuid.UUID(newcomer["id"]), AuditEvent.action == "update"
        )
    ).one()
    assert update.actor == "doctor.laihia"
    # The referral notes it and is sent to the region again, with the patient as known now.
    referral_id = uuid.UUID(referral["id"])
    actions = session.scalars(
        select(ReferralEvent.action).where(ReferralEvent.referral_id == referral_id)
    ).all()
    assert "patient_identified" in actions
    sent = session.scalars(
        select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == referral_id)
    ).all()
    assert "referral.patient_identified" in sent
    # Asked again, the same answer and nothing more.
    again = _identify(client, auth)
    assert again.status_code == 200
    assert again.json()["id"] == newcomer["id"]
    assert session.scalars(
        select(ReferralEvent.action).where(ReferralEvent.referral_id == referral_id)
    ).all().count("patient_identified") == 1  # fmt: skip


def test_another_code_for_an_identified_record_is_a_conflict(
    client: TestClient, auth: Auth
) -> None:
    _register(client, auth, NEWCOMER)
    assert _identify(client, auth).status_code == 200
    other = make_hetu(date(1991, 6, 2), 928)
    response = _identify(client, auth, other)
    assert response.status_code == 409
    assert response.json()["code"] == "another_identity_code"
    assert other not in response.text


def test_a_record_whose_code_someone_has_is_merged_into_theirs(
    client: TestClient, auth: Auth, session: Session
) -> None:
    newcomer = _register(client, auth, NEWCOMER)
    temporary_id = uuid.UUID(newcomer["id"])
    referral = send_referral(client, auth, temporary_id)
    registered = {**NEWCOMER, "hetu": CODE, "temporary_id": None, "birth_date": None, "sex": None}
    known = _register(
        client, auth, {key: value for key, value in registered.items() if value is not None}
    )
    known_id = uuid.UUID(known["id"])
    response = _identify(client, auth)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == known["id"]
    session.expire_all()
    merged = session.get(Patient, temporary_id)
    assert merged is not None
    assert merged.merged_into_id == known_id
    moved = session.get(Referral, uuid.UUID(referral["id"]))
    assert moved is not None
    assert moved.patient_id == known_id
    assert _lookup(client, auth, {"temporary_id": TEMPORARY}).json()["id"] == known["id"]
    actions = session.scalars(
        select(ReferralEvent.action).where(ReferralEvent.referral_id == moved.id)
    ).all()
    assert "patient_merged" in actions
    # The access report of the patient covers what was done under the temporary record too.
    report = client.get(
        f"/api/v1/audit/patients/{known_id}/access-report", headers=auth("auditor.region")
    )
    assert report.status_code == 200, report.text
    reported = {entry["patient_id"] for entry in report.json()["accesses"]}
    assert {str(temporary_id), str(known_id)} <= reported
    # The counselling service still finds the referral, now the patient's.
    worklist = client.get(f"/api/v1/referrals/{moved.id}", headers=auth("doctor.laihia"))
    assert worklist.status_code == 200
    assert worklist.json()["patient_id"] == known["id"]


def test_an_unknown_temporary_identifier_is_not_found(client: TestClient, auth: Auth) -> None:
    response = _identify(client, auth)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "user", ["counsellor1.laihia", "statistician.region", "auditor.region", "admin.region"]
)
def test_only_clinicians_and_the_patient_system_identify(
    client: TestClient, auth: Auth, session: Session, user: str
) -> None:
    _register(client, auth, NEWCOMER)
    response = _identify(client, auth, user=user)
    assert response.status_code == 403, response.text
    identified = session.scalars(select(Patient).where(Patient.hetu_hash.is_(None))).all()
    assert len(identified) == 1


def test_the_patient_system_identifies_too(client: TestClient, auth: Auth) -> None:
    _register(client, auth, NEWCOMER)
    assert _identify(client, auth, user="patient-system").status_code == 200


def test_a_temporary_identifier_is_kantas_form() -> None:
    TemporaryId(system="urn:oid:1.2.246.10.12345678.10.1.22.2025", value="A-1")
    for wrong in ("urn:oid:1.2.246.10.1234567.22", "1.2.246.10.1234567.22.2026",
                  "urn:oid:1.2.246.21.22.2026"):  # fmt: skip
        with pytest.raises(ValueError, match="temporary identifier"):
            TemporaryId(system=wrong, value="1")
