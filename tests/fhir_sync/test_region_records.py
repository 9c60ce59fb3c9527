"""A referral the region's system made is published into the region's own Task and
ServiceRequest on its server (Medplum on loopback), in both publish modes: each step of the
referral shows on them, Askel writes only the elements a service provider answers for, and no
twin of either exists."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.fhir_sync import poller, publisher
from app.fhir_sync.client import FhirClient, NoToken
from app.fhir_sync.resources import business_identifier
from app.referrals.models import Referral
from tests.fhir_sync.test_inbound import post, service_request
from tests.fhir_sync.test_poller import POLLER
from tests.fixtures.conformance import violations
from tests.fixtures.factories import act
from tests.fixtures.journeys import COUNSELLOR, appointment_begun, visit_body
from tests.fixtures.peers import MedplumPeer
from tests.fixtures.region_records import region_referral

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def region(medplum: MedplumPeer) -> Iterator[FhirClient]:
    http = httpx.Client(timeout=10.0)
    yield FhirClient(medplum.base_url, http, NoToken())
    http.close()


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _history(peer: MedplumPeer, reference: str) -> list[dict[str, Any]]:
    """The resource's versions, oldest first (by time: the order of Medplum's history is not
    kept between reads)."""
    entries = peer.get(f"{reference}/_history")["entry"]
    assert isinstance(entries, list)
    return sorted((e["resource"] for e in entries), key=lambda v: v["meta"]["lastUpdated"])


def _steps(versions: list[dict[str, Any]], element: str) -> list[Any]:
    """The values the element went through, each once, in order."""
    steps: list[Any] = []
    for version in versions:
        if not steps or steps[-1] != version.get(element):
            steps.append(version.get(element))
    return steps


@pytest.mark.parametrize("transaction", [False, True], ids=["one-by-one", "transactions"])
def test_the_regions_own_task_and_request_show_each_step_and_no_twin_exists(
    client: TestClient,
    auth: Auth,
    session: Session,
    medplum: MedplumPeer,
    region: FhirClient,
    transaction: bool,
) -> None:
    task_id = region_referral(medplum, "ln-laihia", 1)
    request_id = medplum.get(f"Task/{task_id}")["focus"]["reference"]  # type: ignore[index]
    assert poller.poll(session, region, POLLER) == 1
    referral = session.scalars(
        select(Referral).where(Referral.source_identifier == "urn:region:sr|SR-1")
    ).one()

    def publish() -> None:
        session.expire_all()  # the API changed the referral through its own session
        publisher.publish_referral(session, region, referral.id, transaction=transaction)

    url = f"/api/v1/referrals/{referral.id}"
    publish()
    accepted = _ok(act(client, auth, COUNSELLOR, _ok(client.get(url, headers=auth(COUNSELLOR))),
                       "accept"))  # fmt: skip
    publish()
    appointment = appointment_begun(client, auth, session, accepted)
    publish()
    _ok(client.post(f"{url}/visits", json=visit_body(appointment_id=appointment["id"]),
                    headers=auth(COUNSELLOR)), 201)  # fmt: skip
    publish()
    done = {"reason_code": "goals_met", "reason_text": "Tavoite saavutettu.",
            "outcome_summary": "Liikunta lisääntyi."}  # fmt: skip
    current = _ok(client.get(url, headers=auth(COUNSELLOR)))
    _ok(act(client, auth, COUNSELLOR, current, "complete", done))
    publish()
    publish()  # nothing new: nothing written

    # No twin: the region's Task and ServiceRequest are the only ones.
    assert [task["id"] for task in medplum.search("Task")] == [task_id]
    assert [f"ServiceRequest/{r['id']}" for r in medplum.search("ServiceRequest")] == [request_id]
    assert len(medplum.search("Patient")) == 1

    tasks = _history(medplum, f"Task/{task_id}")
    assert _steps(tasks, "status") == ["requested", "accepted", "in-progress", "completed"]
    business = [v.get("businessStatus", {}).get("coding", [{}])[0].get("code") for v in tasks]
    assert [step for step in _steps([{"b": code} for code in business], "b") if step] == [
        "sent", "accepted", "in_progress", "completed"]  # fmt: skip
    requests = _history(medplum, request_id)
    assert _steps(requests, "status") == ["active", "completed"]

    task, request = tasks[-1], requests[-1]
    # What the region wrote stays as it wrote it; Askel's identifier is added beside its own.
    askel = business_identifier(referral.id)
    assert task["identifier"] == [{"system": "urn:region:task", "value": "T-1"}, askel]
    assert task["focus"] == {"reference": request_id}
    assert task["requester"]["identifier"]["value"] == "nurse.laihia"
    assert request["note"] == [{"id": "goal", "text": "Liikettä arkeen."}]
    assert request["identifier"] == [{"system": "urn:region:sr", "value": "SR-1"}, askel]
    # Askel's records refer to the region's request, and its outcome is the Task's output.
    [booked] = medplum.search("Appointment")
    assert booked["basedOn"] == [{"reference": request_id}]
    report = medplum.get(task["output"][0]["valueReference"]["reference"])
    assert report["conclusion"] == "Liikunta lisääntyi."
    assert report["basedOn"] == [{"reference": request_id}]
    assert task["owner"]["reference"].startswith("Organization/")
    # Askel's own resources conform to the profiles they claim.
    published = [body for kind in ("Appointment", "Encounter", "Observation", "DiagnosticReport",
                                   "Provenance", "Organization", "Practitioner")
                 for body in medplum.search(f"{kind}?_count=100")]  # fmt: skip
    assert published
    assert [problem for body in published for problem in violations(body)] == []


def test_a_referral_posted_to_askel_is_published_into_the_regions_records(
    client: TestClient, auth: Auth, session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    """The region's system posts the referral to /fhir and keeps it on its own server too: the
    publisher finds the request by the region's identifier and the Task by its focus."""
    task_id = region_referral(medplum, "ln-laihia", 2)
    task = medplum.get(f"Task/{task_id}")
    request = medplum.get(str(task["focus"]["reference"]))  # type: ignore[index]
    patient = medplum.get(str(request["subject"]["reference"]))  # type: ignore[index]
    subject = "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"
    sent = service_request(None, identifier=request["identifier"], subject={"reference": subject})
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": subject, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002", "resource": sent,
         "request": {"method": "POST", "url": "ServiceRequest"}}]}  # fmt: skip
    answer = _ok(post(client, auth, bundle, path=""))
    referral_id = answer["entry"][1]["response"]["location"].rsplit("/", 1)[1]
    publisher.publish_referral(session, region, uuid.UUID(referral_id))
    assert [found["id"] for found in medplum.search("Task")] == [task_id]
    assert [found["id"] for found in medplum.search("ServiceRequest")] == [request["id"]]
    assert medplum.get(f"Task/{task_id}")["businessStatus"]["coding"][0]["code"] == "sent"


def test_the_regions_edit_between_askels_writes_is_kept(
    client: TestClient, auth: Auth, session: Session, medplum: MedplumPeer, region: FhirClient
) -> None:
    task_id = region_referral(medplum, "ln-laihia", 3)
    poller.poll(session, region, POLLER)
    referral = session.scalars(
        select(Referral).where(Referral.source_identifier == "urn:region:sr|SR-3")
    ).one()
    publisher.publish_referral(session, region, referral.id)
    # The region notes something on its Task: Askel's next write keeps it.
    task = medplum.get(f"Task/{task_id}")
    noted = {**task, "note": [{"text": "Soitettu potilaalle."}]}
    medplum.http.put(f"{medplum.base_url}/Task/{task_id}", json=noted).raise_for_status()
    url = f"/api/v1/referrals/{referral.id}"
    _ok(act(client, auth, COUNSELLOR, _ok(client.get(url, headers=auth(COUNSELLOR))), "accept"))
    session.expire_all()
    publisher.publish_referral(session, region, referral.id)
    task = medplum.get(f"Task/{task_id}")
    assert (task["status"], task["note"]) == ("accepted", [{"text": "Soitettu potilaalle."}])
