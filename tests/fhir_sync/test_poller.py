"""Referrals fetched from the region's server (Medplum on loopback) for regions that push
nothing: a new Task owned by one of Askel's services becomes one referral, once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.principal import LOCAL_ISSUER, Principal, Role
from app.fhir_sync import poller
from app.fhir_sync.client import FhirClient, NoToken
from app.referrals.models import Referral
from tests.fixtures.peers import MedplumPeer
from tests.fixtures.region_records import region_referral

Auth = Callable[[str], dict[str, str]]
POLLER = Principal(subject="askel-poller", organisation="hva-pohjanmaa",
                   roles=frozenset({Role.integration}), issuer=LOCAL_ISSUER)  # fmt: skip


@pytest.fixture
def region(medplum: MedplumPeer) -> Iterator[FhirClient]:
    http = httpx.Client(timeout=10.0)
    yield FhirClient(medplum.base_url, http, NoToken())
    http.close()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Referral)) or 0


def test_new_region_tasks_become_referrals_once(
    session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    before = _count(session)
    region_referral(medplum, "ln-laihia", 1)
    region_referral(medplum, "ln-laihia", 2)
    region_referral(medplum, "someone-elses-service", 3)
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
    client: TestClient, auth: Auth, session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    bad = region_referral(medplum, "ln-laihia", 4)
    task = medplum.get(f"Task/{bad}")
    request = medplum.get(str(task["focus"]["reference"]))  # type: ignore[index]
    medplum.http.put(
        f"{medplum.base_url}/ServiceRequest/{request['id']}", json={**request, "extension": []}
    ).raise_for_status()  # no consent
    region_referral(medplum, "ln-laihia", 5)
    assert poller.poll(session, region, POLLER) == 1
    # The region's administrators see which Task and why, without any personal data; a
    # municipality's do not.
    refused = client.get("/api/v1/admin/fhir/refusals", headers=auth("admin.region"))
    [row] = [r for r in refused.json()["items"] if r["task_reference"] == f"Task/{bad}"]
    assert (row["code"], row["times"]) == ("consent_required", 1)
    municipal = client.get("/api/v1/admin/fhir/refusals", headers=auth("admin.laihia"))
    assert municipal.status_code == 403
    # Changed by the region and still not takeable: the same row, refused once more.
    task = medplum.get(f"Task/{bad}")
    medplum.http.put(f"{medplum.base_url}/Task/{bad}",
                     json={**task, "description": "uudelleen"}).raise_for_status()  # fmt: skip
    assert poller.poll(session, region, POLLER) == 0
    refused = client.get("/api/v1/admin/fhir/refusals", headers=auth("admin.region"))
    [row] = [r for r in refused.json()["items"] if r["task_reference"] == f"Task/{bad}"]
    assert row["times"] == 2


def test_a_task_with_invalid_fhir_is_refused_with_the_place_at_fault(
    client: TestClient, auth: Auth, session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    bad = region_referral(medplum, "ln-laihia", 6)
    task = medplum.get(f"Task/{bad}")
    request = medplum.get(str(task["focus"]["reference"]))  # type: ignore[index]
    medplum.http.put(f"{medplum.base_url}/ServiceRequest/{request['id']}",
                     json={**request, "status": "draft"}).raise_for_status()  # fmt: skip
    assert poller.poll(session, region, POLLER) == 0
    refused = client.get("/api/v1/admin/fhir/refusals", headers=auth("admin.region")).json()
    [row] = [r for r in refused["items"] if r["task_reference"] == f"Task/{bad}"]
    assert (row["code"], row["reason"]) == (
        "invalid_fhir_resource",
        "ServiceRequest.status must be active",
    )
