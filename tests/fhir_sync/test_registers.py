"""The national registers' identifiers: THL's OIDs for ICD-10 and ICPC-2, organisations and
service units by their OIDs in the SOTE organisation register, and professionals by their
Terhikki numbers, both in what the region receives and in what it sends."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.models import User
from app.fhir_sync import repository
from app.fhir_sync.parties import parties
from app.fhir_sync.resources import referral_set
from app.organisations.models import CounsellingService, Organisation
from app.referrals.models import Referral
from tests.fhir_sync.test_inbound import known_hetu, post, service_request

Auth = Callable[[str], dict[str, str]]
TERHIKKI = "urn:oid:1.2.246.537.26"


def _register_number(session: Session, username: str) -> str:
    number = session.scalar(select(User.register_number).where(User.username == username))
    assert number is not None
    return number


def _by_terhikki(number: str) -> dict[str, dict[str, str]]:
    return {"identifier": {"system": TERHIKKI, "value": number}}


def test_a_referral_may_name_its_requester_by_their_terhikki_number(
    client: TestClient, auth: Auth, session: Session
) -> None:
    number = _register_number(session, "nurse.laihia")
    body = service_request(known_hetu(session), requester=_by_terhikki(number))
    response = post(client, auth, body)
    assert response.status_code == 201, response.text
    referral = session.get(Referral, uuid.UUID(response.json()["id"]))
    assert referral is not None
    assert (referral.referrer_subject, referral.referrer_organisation) == (
        "nurse.laihia",
        "ts-laihia",
    )


def test_an_unknown_terhikki_number_is_an_unknown_requester(
    client: TestClient, auth: Auth, session: Session
) -> None:
    body = service_request(known_hetu(session), requester=_by_terhikki("12345"))
    response = post(client, auth, body)
    assert response.status_code == 422, response.text
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "unknown_requester"


def test_a_terhikki_number_of_another_issuers_account_names_nobody(
    client: TestClient, auth: Auth, session: Session
) -> None:
    user = session.scalars(select(User).where(User.username == "doctor.laihia")).one()
    user.issuer = "https://elsewhere.example"
    session.commit()
    body = service_request(known_hetu(session), requester=_by_terhikki(user.register_number or ""))
    response = post(client, auth, body)
    assert response.status_code == 422, response.text


def test_what_the_region_receives_names_the_registers(
    client: TestClient, auth: Auth, session: Session
) -> None:
    response = post(client, auth, service_request(known_hetu(session)))
    assert response.status_code == 201, response.text
    records = repository.records(session, uuid.UUID(response.json()["id"]))
    assert records is not None
    published = {
        (o.resource_type, identifier["system"], identifier["value"])
        for o in parties(records)
        for identifier in o.body["identifier"]
    }
    service = session.get(CounsellingService, records.referral.service_id)
    station = session.scalars(select(Organisation).where(Organisation.code == "ts-laihia")).one()
    assert service is not None
    assert service.oid
    assert station.oid
    assert ("Organization", "urn:ietf:rfc:3986", f"urn:oid:{service.oid}") in published
    assert ("Organization", "urn:ietf:rfc:3986", f"urn:oid:{station.oid}") in published
    number = _register_number(session, "doctor.laihia")
    assert ("Practitioner", TERHIKKI, number) in published
    [request] = [o.body for o in referral_set(records, lambda kind, key: {})
                 if o.resource_type == "ServiceRequest"]  # fmt: skip
    systems = {c["system"] for reason in request["reasonCode"] for c in reason["coding"]}
    assert systems == {"urn:oid:1.2.246.537.6.1"}


def test_someone_without_a_register_number_is_published_without_one(
    client: TestClient, auth: Auth, session: Session
) -> None:
    session.execute(User.__table__.update().values(register_number=None))
    session.execute(Organisation.__table__.update().values(oid=None))
    session.commit()
    response = post(client, auth, service_request(known_hetu(session)))
    records = repository.records(session, uuid.UUID(response.json()["id"]))
    assert records is not None
    systems = {i["system"] for o in parties(records) for i in o.body["identifier"]}
    assert TERHIKKI not in systems
    organisations = [o.body for o in parties(records) if o.resource_type == "Organization"]
    station = next(b for b in organisations if "ts-laihia" in str(b["identifier"]))
    assert not any(i["value"].startswith("urn:oid:") for i in station["identifier"])


def test_the_service_directory_gives_each_units_oid(client: TestClient, auth: Auth) -> None:
    services = client.get("/api/v1/services", headers=auth("doctor.laihia")).json()["items"]
    assert services
    assert all(service["oid"].startswith("1.2.246.10.") for service in services)
