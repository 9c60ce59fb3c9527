"""The whole chain against a real FHIR server: Medplum's engine on loopback. A referral sent,
booked, visited, planned and completed in Askel is on the peer as the right resources with the
right references, exactly once, however often the worker runs."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import PlanVersion
from app.fhir_sync import publisher, transactions
from app.fhir_sync.client import FhirClient, NoToken
from app.fhir_sync.models import FhirLink
from app.fhir_sync.resources import business_identifier
from app.jobs.worker import run_once
from app.kit.clock import utcnow
from tests.fixtures.conformance import violations
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.journeys import completed_referral
from tests.fixtures.outbox import referral_events, waiting_behind_the_first
from tests.fixtures.peers import MedplumPeer

Auth = Callable[[str], dict[str, str]]
KINDS = ("Patient", "Organization", "Practitioner", "ServiceRequest", "Schedule", "Slot",
         "Appointment", "Encounter", "Observation", "Goal", "CarePlan", "DiagnosticReport",
         "Task", "Provenance")  # fmt: skip


Clients = Callable[..., FhirClient]


@pytest.fixture
def fhir() -> Iterator[Clients]:
    """FhirClients for any base URL and token, closed after the test."""
    opened: list[httpx.Client] = []

    def open_client(base_url: str, token: Any = None) -> FhirClient:
        opened.append(httpx.Client(timeout=10.0))
        return FhirClient(base_url, opened[-1], token or NoToken())

    yield open_client
    for http in opened:
        http.close()


def _run(app: FastAPI, client: FhirClient, now: Any = None, transaction: bool = False) -> None:
    handlers = {publisher.PREFIX: publisher.handler(client, transaction=transaction)}
    run_once(app.state.db, handlers, now=now)


def _everything(peer: MedplumPeer) -> dict[str, list[dict[str, Any]]]:
    return {kind: peer.search(f"{kind}?_count=100") for kind in KINDS}


@pytest.mark.parametrize("transaction", [False, True], ids=["one-by-one", "transactions"])
def test_a_completed_referral_is_on_the_peer_once_with_its_references(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    session: Session,
    medplum: MedplumPeer,
    fhir: Clients,
    transaction: bool,
) -> None:
    """In transaction mode the first publish is 19 resources: Medplum takes at most 8 entries
    in a transaction with a conditional create, so they go as several bundles, in order."""
    referral = completed_referral(client, auth, session)
    peer = fhir(medplum.base_url)
    _run(app, peer, transaction=transaction)
    _run(app, peer, transaction=transaction)  # again over the same events: nothing new
    referral_id = uuid.UUID(referral["id"])
    publisher.publish_referral(session, peer, referral_id, transaction=transaction)
    # The links are lost (a crash between the peer's answer and Askel's commit): no twins.
    session.execute(delete(FhirLink))
    publisher.publish_referral(session, peer, referral_id, transaction=transaction)
    found = _everything(medplum)
    assert Counter({kind: len(found[kind]) for kind in KINDS}) == Counter(
        Patient=1, Organization=2, Practitioner=2, ServiceRequest=1, Schedule=1, Slot=1,
        Appointment=1, Encounter=1, Observation=4, Goal=1, CarePlan=1, DiagnosticReport=1,
        Task=1, Provenance=1,
    )  # fmt: skip
    # What the region's server holds conforms to every profile it claims.
    assert [problem for kind in KINDS for body in found[kind] for problem in violations(body)] == []
    identifier = business_identifier(uuid.UUID(referral["id"]))
    [task] = medplum.search(f"Task?identifier={identifier['system']}|{identifier['value']}")
    assert task["status"] == "completed"
    # Each entry had a fullUrl of its own, which no identifier equals: nothing was rewritten.
    assert task["identifier"] == [identifier]
    assert task["focus"]["reference"] == f"ServiceRequest/{found['ServiceRequest'][0]['id']}"
    report = medplum.get(task["output"][0]["valueReference"]["reference"])
    assert report["conclusion"] == "Liikunta lisääntyi."
    assert medplum.get(task["focus"]["reference"])["resourceType"] == "ServiceRequest"
    [appointment] = found["Appointment"]
    assert appointment["status"] == "fulfilled"
    assert medplum.get(appointment["slot"][0]["reference"])["status"] == "busy"
    [encounter] = found["Encounter"]
    assert encounter["appointment"][0]["reference"] == f"Appointment/{appointment['id']}"
    # Each resource was written as often as its content changed, not once per run (the lost
    # links found each again, and an update of what had not changed made a version more).
    history = medplum.get(f"Task/{task['id']}/_history")
    assert len(history["entry"]) == 2


def test_the_peer_down_for_a_while_then_everything_arrives(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    session: Session,
    medplum: MedplumPeer,
    fhir: Clients,
) -> None:
    referral = completed_referral(client, auth, session)
    _run(app, fhir("http://127.0.0.1:9/fhir/R4"))  # nothing listens on the discard port
    assert waiting_behind_the_first(referral_events(session)).attempts == 1
    _run(app, fhir(medplum.base_url), now=utcnow() + timedelta(minutes=5))
    assert len(medplum.search("Task")) == 1
    assert medplum.search("Task")[0]["status"] == "completed"
    assert referral["status"] == "completed"


def test_a_stale_version_is_reread_and_askels_change_applied(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    session: Session,
    medplum: MedplumPeer,
    fhir: Clients,
) -> None:
    referral = completed_referral(client, auth, session)
    peer = fhir(medplum.base_url)
    _run(app, peer)
    [plan] = medplum.search("CarePlan")
    edited = {**plan, "title": "Alueen muokkaama"}
    medplum.http.put(f"{medplum.base_url}/CarePlan/{plan['id']}", json=edited).raise_for_status()
    newest = session.scalars(select(PlanVersion).order_by(PlanVersion.version.desc())).first()
    assert newest is not None
    newest.support_agreed = "Soitto viikon päästä."
    session.flush()
    publisher.publish_referral(session, peer, uuid.UUID(referral["id"]))
    [plan] = medplum.search("CarePlan")
    assert [note["text"] for note in plan["note"]] == ["Soitto viikon päästä."]
    assert len(medplum.get(f"CarePlan/{plan['id']}/_history")["entry"]) == 3


def test_a_refused_token_is_a_clear_dead_letter(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    session: Session,
    medplum: MedplumPeer,
    fhir: Clients,
) -> None:
    completed_referral(client, auth, session)
    medplum.require_token("the-right-one")

    class WrongToken(NoToken):
        def __call__(self) -> str | None:
            return "Bearer the-wrong-one"

    _run(app, fhir(medplum.base_url, WrongToken()))
    dead = waiting_behind_the_first(referral_events(session))
    assert dead.dead_lettered_at is not None
    assert "401" in (dead.last_error or "")
    assert "bearer token is required" in (dead.last_error or "")


def _bundles_sent(session: Session, medplum: MedplumPeer, referral_id: str) -> list[list[Any]]:
    """The entries of each transaction bundle a publish in transaction mode sends, in order."""
    bundles: list[list[Any]] = []

    def keep(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.rstrip("/").endswith("/R4"):
            bundles.append(json.loads(request.content)["entry"])

    with httpx.Client(timeout=10.0, event_hooks={"request": [keep]}) as http:
        peer = FhirClient(medplum.base_url, http, NoToken())
        publisher.publish_referral(session, peer, uuid.UUID(referral_id), transaction=True)
    return bundles


def test_transaction_bundles_are_conditional_small_and_named_apart(
    client: TestClient, auth: Auth, session: Session, medplum: MedplumPeer
) -> None:
    referral = completed_referral(client, auth, session)
    bundles = _bundles_sent(session, medplum, referral["id"])
    entries = [entry for bundle in bundles for entry in bundle]
    assert len(entries) == 19
    assert all(len(bundle) <= transactions.MEDPLUM_LIMIT for bundle in bundles)
    creates = [entry for entry in entries if entry["request"]["method"] == "POST"]
    assert len(creates) == 19
    assert all(entry["request"].get("ifNoneExist") for entry in creates)
    full_urls = [entry["fullUrl"] for entry in entries]
    assert len(set(full_urls)) == len(full_urls)
    identifiers = {i["value"] for entry in entries for i in entry["resource"].get("identifier", [])}
    assert not identifiers & set(full_urls)


def test_a_provenance_naming_a_request_new_in_the_bundle_waits_for_the_next(
    client: TestClient, auth: Auth, session: Session, medplum: MedplumPeer
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399").id)
    bundles = _bundles_sent(session, medplum, referral["id"])
    kinds = [[entry["resource"]["resourceType"] for entry in bundle] for bundle in bundles]
    assert kinds == [
        ["Patient", "Organization", "Organization", "Practitioner", "ServiceRequest", "Task"],
        ["Provenance"],
    ]
    [provenance] = medplum.search("Provenance")
    [request] = medplum.search("ServiceRequest")
    assert provenance["target"][0] == {"reference": f"ServiceRequest/{request['id']}"}
