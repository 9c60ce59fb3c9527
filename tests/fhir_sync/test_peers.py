"""The whole chain against a real FHIR server: Medplum's engine on loopback. A referral sent,
booked, visited, planned and completed in Askel is on the peer as the right resources with the
right references, exactly once, however often the worker runs."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import PlanVersion
from app.fhir_sync import publisher
from app.fhir_sync.client import FhirClient, NoToken
from app.fhir_sync.resources import business_identifier
from app.jobs.worker import run_once
from app.kit.clock import utcnow
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


def _run(app: FastAPI, client: FhirClient, now: Any = None) -> None:
    run_once(app.state.db, {publisher.PREFIX: publisher.handler(client)}, now=now)


def _everything(peer: MedplumPeer) -> dict[str, list[dict[str, Any]]]:
    return {kind: peer.search(f"{kind}?_count=100") for kind in KINDS}


def test_a_completed_referral_is_on_the_peer_once_with_its_references(
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
    _run(app, peer)  # again over the same events: nothing new
    publisher.publish_referral(session, peer, uuid.UUID(referral["id"]))
    found = _everything(medplum)
    assert Counter({kind: len(found[kind]) for kind in KINDS}) == Counter(
        Patient=1, Organization=2, Practitioner=2, ServiceRequest=1, Schedule=1, Slot=1,
        Appointment=1, Encounter=1, Observation=4, Goal=1, CarePlan=1, DiagnosticReport=1,
        Task=1, Provenance=1,
    )  # fmt: skip
    identifier = business_identifier(uuid.UUID(referral["id"]))
    [task] = medplum.search(f"Task?identifier={identifier['system']}|{identifier['value']}")
    assert task["status"] == "completed"
    report = medplum.get(task["output"][0]["valueReference"]["reference"])
    assert report["conclusion"] == "Liikunta lisääntyi."
    assert medplum.get(task["focus"]["reference"])["resourceType"] == "ServiceRequest"
    [appointment] = found["Appointment"]
    assert appointment["status"] == "fulfilled"
    assert medplum.get(appointment["slot"][0]["reference"])["status"] == "busy"
    [encounter] = found["Encounter"]
    assert encounter["appointment"][0]["reference"] == f"Appointment/{appointment['id']}"
    # Each resource was written as often as its content changed, not once per run.
    history = medplum.get(f"Task/{task['id']}/_history")
    assert len(history["entry"]) == 1


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
