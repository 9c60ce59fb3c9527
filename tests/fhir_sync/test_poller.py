"""Referrals fetched from the region's server (Medplum on loopback) for regions that push
nothing: a new Task owned by one of Askel's services becomes one referral, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access.principal import LOCAL_ISSUER, Principal, Role
from app.fhir_sync import poller
from app.fhir_sync.client import FhirClient, NoToken
from app.patients.hetu import make_hetu
from app.referrals.models import Referral
from tests.fhir_sync.test_inbound import CONSENT
from tests.fixtures.peers import MedplumPeer

POLLER = Principal(subject="askel-poller", organisation="hva-pohjanmaa",
                   roles=frozenset({Role.integration}), issuer=LOCAL_ISSUER)  # fmt: skip


@pytest.fixture
def region(medplum: MedplumPeer) -> Iterator[FhirClient]:
    http = httpx.Client(timeout=10.0)
    yield FhirClient(medplum.base_url, http, NoToken())
    http.close()


def _create(peer: MedplumPeer, body: dict[str, Any]) -> str:
    made = peer.http.post(f"{peer.base_url}/{body['resourceType']}", json=body)
    created: str = made.raise_for_status().json()["id"]
    return created


def _region_referral(peer: MedplumPeer, owner: str, number: int) -> str:
    """What the region's system writes: the Patient, the ServiceRequest and the Task."""
    patient = _create(peer, {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.246.21",
                        "value": make_hetu(date(1970, 1, number), 930 + number)}],
        "name": [{"family": "Alueelta", "given": ["Aino"]}],
        "address": [{"extension": [{
            "url": "https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/municipality-code",
            "valueCoding": {"code": "399"}}]}],
    })  # fmt: skip
    request = _create(peer, {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "identifier": [{"system": "urn:region:sr", "value": f"SR-{number}"}],
        "extension": [{"url": CONSENT, "valueBoolean": True}],
        "subject": {"reference": f"Patient/{patient}"},
        "requester": {"identifier": {"system": "urn:askel:user", "value": "nurse.laihia"}},
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                    "code": "I10"}], "text": "Verenpainetauti."}],
        "note": [{"id": "goal", "text": "Liikettä arkeen."}],
    })  # fmt: skip
    return _create(peer, {
        "resourceType": "Task", "status": "requested", "intent": "order",
        "focus": {"reference": f"ServiceRequest/{request}"},
        "owner": {"identifier": {"system": "urn:askel:service", "value": owner}},
    })  # fmt: skip


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Referral)) or 0


def test_new_region_tasks_become_referrals_once(
    session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    before = _count(session)
    _region_referral(medplum, "ln-laihia", 1)
    _region_referral(medplum, "ln-laihia", 2)
    _region_referral(medplum, "someone-elses-service", 3)
    assert poller.poll(session, region, POLLER) == 2
    assert _count(session) == before + 2
    assert poller.poll(session, region, POLLER) == 0
    # A change to a Task already taken is no new referral either.
    task = medplum.search("Task?_count=1")[0]
    medplum.http.put(f"{medplum.base_url}/Task/{task['id']}",
                     json={**task, "description": "muutettu"}).raise_for_status()  # fmt: skip
    assert poller.poll(session, region, POLLER) == 0
    assert _count(session) == before + 2
    referral = session.scalars(
        select(Referral).where(Referral.source_identifier == "urn:region:sr|SR-1")
    ).one()
    assert (referral.referrer_subject, referral.status) == ("nurse.laihia", "sent")


def test_a_task_that_cannot_become_a_referral_does_not_stall_the_rest(
    session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    bad = _region_referral(medplum, "ln-laihia", 4)
    task = medplum.get(f"Task/{bad}")
    request = medplum.get(str(task["focus"]["reference"]))  # type: ignore[index]
    medplum.http.put(
        f"{medplum.base_url}/ServiceRequest/{request['id']}", json={**request, "extension": []}
    ).raise_for_status()  # no consent
    _region_referral(medplum, "ln-laihia", 5)
    assert poller.poll(session, region, POLLER) == 1
