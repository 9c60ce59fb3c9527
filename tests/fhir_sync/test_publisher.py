"""Publishing referrals from the outbox, against the in-process double for what a real server
will not do on demand: outages, someone else's edits, a refused token. (The same journey runs
against the real peers in `test_peers.py`.)"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.authn import TokenRefused
from app.counselling.models import PlanVersion
from app.fhir_sync import publisher
from app.fhir_sync.client import FhirClient, NoToken
from app.fhir_sync.models import FhirLink
from app.jobs.models import OutboxEvent
from app.jobs.worker import run_once
from app.kit.clock import utcnow
from tests.fixtures.conformance import violations
from tests.fixtures.fhir_double import FhirDouble
from tests.fixtures.journeys import completed_referral
from tests.fixtures.outbox import waiting_behind_the_first

Auth = Callable[[str], dict[str, str]]
BASE = "https://region.example/fhir"


@pytest.fixture
def peer() -> FhirDouble:
    return FhirDouble()


def _client(peer: FhirDouble, token: Any = None) -> FhirClient:
    return FhirClient(BASE, httpx.Client(transport=peer.transport()), token or NoToken())


def _publish(app: FastAPI, client: FhirClient, now: Any = None) -> int:
    handlers = {publisher.PREFIX: publisher.handler(client)}
    handled = 0
    while batch := run_once(app.state.db, handlers, now=now):
        handled += batch
        if now is None:
            break
    return handled


def _pending(session: Session, referral_id: str) -> list[OutboxEvent]:
    statement = select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(referral_id))
    # The worker wrote them through its own session: read them afresh.
    fresh = statement.order_by(OutboxEvent.id).execution_options(populate_existing=True)
    return list(session.scalars(fresh))


def _references(resource: Any) -> list[str]:
    if isinstance(resource, dict):
        found = [resource["reference"]] if isinstance(resource.get("reference"), str) else []
        return found + [ref for value in resource.values() for ref in _references(value)]
    if isinstance(resource, list):
        return [ref for value in resource for ref in _references(value)]
    return []


def test_a_whole_referral_arrives_once_with_its_references(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    _publish(app, _client(peer))
    kinds = Counter(kind for kind, _ in peer.resources)
    # Organizations: the service and the referrer's; Practitioners: the referrer and the
    # counsellor (who also recorded the visits and the plan).
    assert kinds == {"Patient": 1, "Organization": 2, "Practitioner": 2, "ServiceRequest": 1,
                     "Schedule": 1, "Slot": 1, "Appointment": 1, "Encounter": 1,
                     "Observation": 4, "Goal": 1, "CarePlan": 1, "DiagnosticReport": 1,
                     "Task": 1, "Provenance": 1}  # fmt: skip
    for body in peer.resources.values():
        for reference in _references(body):
            kind, _, peer_id = reference.partition("/")
            assert (kind, peer_id) in peer.resources, reference
    [task] = peer.of_type("Task")
    assert task["status"] == "completed"
    [encounter] = peer.of_type("Encounter")
    assert encounter["length"]["value"] == 45  # the correction, not the original
    # The correction changed the duration only: the figures stay as first recorded.
    assert {body["status"] for body in peer.of_type("Observation")} == {"final"}
    assert [problem for body in peer.resources.values() for problem in violations(body)] == []
    assert all(event.published_at for event in _pending(session, referral["id"]))


def test_publishing_again_sends_nothing_and_a_lost_link_makes_no_twin(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    fhir = _client(peer)
    _publish(app, fhir)
    before, sent = dict(peer.resources), len(peer.requests)
    assert publisher.publish_referral(session, fhir, uuid.UUID(referral["id"])) == 0
    assert len(peer.requests) == sent
    # The links are lost (a crash between the peer's answer and Askel's commit): found again.
    session.execute(delete(FhirLink))
    publisher.publish_referral(session, fhir, uuid.UUID(referral["id"]))
    assert peer.resources.keys() == before.keys()


def test_after_the_mappings_change_a_republish_sends_only_what_differs(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    fhir = _client(peer)
    _publish(app, fhir)
    # As if the Encounter had been written by an earlier version's mappings.
    session.execute(
        update(FhirLink).where(FhirLink.resource_type == "Encounter").values(content_hash="old")
    )
    session.commit()
    sent = len(peer.requests)
    assert publisher.republish_all(session) == 1
    session.commit()
    _publish(app, fhir)
    assert [method for method, path in peer.requests[sent:] if method != "GET"] == ["PUT"]
    assert all(event.published_at for event in _pending(session, referral["id"]))


def test_someone_elses_edit_is_reread_and_askels_change_applied(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    fhir = _client(peer)
    _publish(app, fhir)
    peer.edit_behind_askels_back("CarePlan", lambda body: body.update(title="Muokattu"))
    publisher.publish_referral(session, fhir, uuid.UUID(referral["id"]))
    puts = [path for method, path in peer.requests if method == "PUT" and "CarePlan" in path]
    assert puts == []  # nothing of Askel's changed: the other edit stays as it is
    # Then Askel's plan changes: the update meets the newer version, re-reads and applies.
    newest = session.scalars(select(PlanVersion).order_by(PlanVersion.version.desc())).first()
    assert newest is not None
    newest.support_agreed = "Soitto viikon päästä."
    session.flush()
    publisher.publish_referral(session, fhir, uuid.UUID(referral["id"]))
    [care_plan] = peer.of_type("CarePlan")
    assert [note["text"] for note in care_plan["note"]] == ["Soitto viikon päästä."]
    assert care_plan["meta"]["versionId"] == "3"  # over the other edit, not beside it
    assert ("GET", f"CarePlan/{care_plan['id']}") in peer.requests


def test_while_the_peer_is_down_events_wait_then_arrive_in_order(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    peer.failing_with = 503
    fhir = _client(peer)
    _publish(app, fhir)
    first = waiting_behind_the_first(_pending(session, referral["id"]))
    assert first.attempts == 1
    assert "503" in (first.last_error or "")
    peer.failing_with = None
    _publish(app, fhir, now=utcnow() + timedelta(minutes=5))
    events = _pending(session, referral["id"])
    assert all(event.published_at for event in events), [e.last_error for e in events]
    [task] = peer.of_type("Task")
    assert task["status"] == "completed"


def test_a_refused_token_dead_letters_with_its_reason(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)

    class Refused(NoToken):
        def __call__(self) -> str | None:
            raise TokenRefused("the token endpoint refused the client: invalid_client: bad key")

    _publish(app, _client(peer, Refused()))
    dead = waiting_behind_the_first(_pending(session, referral["id"]))
    assert dead.dead_lettered_at is not None
    assert "SMART token refused" in (dead.last_error or "")
    assert "invalid_client" in (dead.last_error or "")
    assert peer.resources == {}


def test_each_resource_sent_is_a_disclosure_in_the_patients_access_report(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    _publish(app, _client(peer))
    disclosed = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "disclose", AuditEvent.resource_type == "FHIR"
        )
    ).all()
    # Everything sent but the services, the staff and their calendars, which hold nothing of
    # the patient's.
    patients = [kind for kind, _ in peer.resources if kind not in publisher.NOT_THE_PATIENTS]
    assert len(disclosed) == len(patients)
    assert {str(event.patient_id) for event in disclosed} == {referral["patient_id"]}
    assert {event.recipient for event in disclosed} == {f"hva-pohjanmaa: {BASE}"}
    report = client.get(
        f"/api/v1/audit/patients/{referral['patient_id']}/access-report",
        headers=auth("auditor.region"),
    ).json()
    to_region = [d for d in report["disclosures"] if d["resource_type"] == "FHIR"]
    assert len(to_region) == len(disclosed)
    assert to_region[0]["recipient"] == f"hva-pohjanmaa: {BASE}"


def test_dead_letters_are_shown_to_region_admins_and_replayed(
    app: FastAPI, client: TestClient, auth: Auth, session: Session, peer: FhirDouble
) -> None:
    referral = completed_referral(client, auth, session)
    peer.failing_with = 422  # a resource the peer will never take: given up on at once
    _publish(app, _client(peer))
    letters = client.get("/api/v1/admin/outbox/dead-letters", headers=auth("admin.region"))
    mine = [row for row in letters.json()["items"] if row["aggregate_id"] == referral["id"]]
    assert mine
    assert "422" in mine[0]["last_error"]
    municipal = client.get("/api/v1/admin/outbox/dead-letters", headers=auth("admin.laihia"))
    assert municipal.status_code == 403
    metrics = client.get("/metrics").text
    assert 'askel_outbox_dead_letters{aggregate="referral"}' in metrics
    peer.failing_with = None
    replay = client.post(
        "/api/v1/admin/outbox/dead-letters/replay",
        json={"event_ids": [row["id"] for row in mine]},
        headers=auth("admin.region"),
    )
    assert replay.json() == {"replayed": len(mine)}
    _publish(app, _client(peer))
    assert all(event.published_at for event in _pending(session, referral["id"]))
