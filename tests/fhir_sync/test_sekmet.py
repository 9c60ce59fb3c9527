"""SMART Backend Services against a server that checks them for real (sekmet-fhir on
loopback): a whole referral published with tokens Askel asks for itself, and a client whose
key the server does not know refused with its reason in the dead letter."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx2 as httpx
from fastapi import FastAPI
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.authn import SmartBackendServices
from app.fhir_sync import publisher
from app.fhir_sync.client import FhirClient
from app.fhir_sync.resources import business_identifier
from app.jobs.worker import run_once
from app.scheduling.models import Appointment, Slot
from tests.fixtures.journeys import booked_referral, completed_referral
from tests.fixtures.outbox import referral_events, waiting_behind_the_first
from tests.fixtures.peers import SekmetPeer

Auth = Callable[[str], dict[str, str]]
SCOPE = "system/*.cruds"


def _publish(app: FastAPI, peer: SekmetPeer, key: dict[str, object]) -> FhirClient:
    tokens = SmartBackendServices(peer.token_url, peer.client_id, key, SCOPE)
    client = FhirClient(peer.base_url, httpx.Client(timeout=30.0), tokens)
    run_once(app.state.db, {publisher.PREFIX: publisher.handler(client)})
    return client


def test_a_referral_published_with_smart_tokens(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, sekmet: SekmetPeer
) -> None:
    # Booked, not yet planned: sekmet-fhir cannot search Goals by identifier, which a
    # conditional create needs (Medplum can; see test_peers.py for the whole journey).
    referral, _ = booked_referral(client, auth, session)
    fhir = _publish(app, sekmet, sekmet.private_key)
    identifier = business_identifier(uuid.UUID(referral["id"]))
    query = f"identifier={identifier['system']}|{identifier['value']}"
    tasks = fhir.search("Task", {"identifier": f"{identifier['system']}|{identifier['value']}"})
    appointments = fhir.search("Appointment", {"_count": "100"})
    with httpx.Client(timeout=10.0) as http:
        anonymous = http.get(f"{sekmet.base_url}/Task?{query}")
    assert [task["status"] for task in tasks] == ["accepted"]
    assert any(a["extension"][0]["valueString"] == referral["id"] for a in appointments)
    assert anonymous.status_code == 401
    # A new token after forgetting the old: a fresh assertion, which the server accepts
    # (it refuses a reused `jti`).
    fhir._token.forget()
    assert len(fhir.search("Task", {"_count": "1"})) == 1
    fhir.close()


def test_an_unknown_key_is_refused_and_the_reason_kept(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, sekmet: SekmetPeer
) -> None:
    completed_referral(client, auth, session)
    stranger = ECKey.generate_key("P-384", parameters={"kid": "askel-test", "alg": "ES384"})
    _publish(app, sekmet, stranger.as_dict(private=True)).close()
    dead = waiting_behind_the_first(referral_events(session))
    assert dead.dead_lettered_at is not None
    reason = dead.last_error or ""
    assert "SMART token refused" in reason
    assert "invalid_client" in reason


def test_a_change_goes_as_one_transaction_and_a_stale_entry_rolls_back_the_whole(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, sekmet: SekmetPeer
) -> None:
    referral, appointment = booked_referral(client, auth, session)
    tokens = SmartBackendServices(sekmet.token_url, sekmet.client_id, sekmet.private_key, SCOPE)
    answers: list[tuple[str, int]] = []
    hooks = {"response": [lambda r: answers.append((r.request.method, r.status_code))]}
    fhir = FhirClient(sekmet.base_url, httpx.Client(timeout=30.0, event_hooks=hooks), tokens)
    referral_id = uuid.UUID(referral["id"])
    publisher.publish_referral(session, fhir, referral_id, transaction=True)
    [booked] = [a for a in fhir.search("Appointment", {"_count": "200"})
                if a["extension"][0]["valueString"] == referral["id"]]  # fmt: skip
    slot_id = booked["slot"][0]["reference"].split("/")[1]
    assert fhir.resolve(f"Slot/{slot_id}")["status"] == "busy"
    # Someone at the region touches the appointment: Askel's version of it is now stale.
    fhir.update("Appointment", booked["id"], {**booked, "comment": "alueen merkintä"},
                booked["meta"]["versionId"])  # fmt: skip
    # Then the appointment is cancelled in Askel: the Slot and the Appointment change together.
    row = session.get(Appointment, uuid.UUID(appointment["id"]))
    assert row is not None
    row.status, row.cancelled_by = "cancelled", "patient"
    slot = session.get(Slot, row.slot_id)
    assert slot is not None
    slot.booked_count = 0
    session.flush()
    answers.clear()
    publisher.publish_referral(session, fhir, referral_id, transaction=True)
    assert answers[0] == ("POST", 412)  # the bundle met the stale version
    assert answers[-1] == ("POST", 200)  # and went through once the versions were read again
    assert fhir.resolve(f"Slot/{slot_id}")["status"] == "free"
    assert fhir.resolve(f"Appointment/{booked['id']}")["status"] == "cancelled"
    # The first bundle met the stale Appointment and was rolled back whole: the Slot's update in
    # it left no version behind, only the second bundle's did.
    history = fhir.resolve(f"Slot/{slot_id}/_history")
    assert len(history["entry"]) == 2
    fhir.close()
