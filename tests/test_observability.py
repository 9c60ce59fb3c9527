from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import sealing
from app.access.audit.models import AuditEvent
from app.observability import JsonFormatter
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.facts import facts_follow


def test_liveness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readiness_checks_the_database_schema(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'askel_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "askel_http_request_duration_seconds_bucket" in text


def _gauges(client: TestClient) -> dict[str, float]:
    samples = text_string_to_metric_families(client.get("/metrics").text)
    return {s.name: s.value for family in samples for s in family.samples if not s.labels}


def test_metrics_show_how_far_the_statistics_facts_are_behind(
    client: TestClient, auth: Any, session: Session
) -> None:
    before = _gauges(client)
    assert (before["askel_statistics_facts_pending"],
            before["askel_statistics_facts_lag_seconds"]) == (0, 0)  # fmt: skip
    patient = demo_patient(session, "399")
    for _ in range(2):
        send_referral(client, auth, patient.id)
    behind = _gauges(client)
    assert behind["askel_statistics_facts_pending"] == 2
    assert behind["askel_statistics_facts_lag_seconds"] > 0
    facts_follow(session)
    after = _gauges(client)
    assert (after["askel_statistics_facts_pending"],
            after["askel_statistics_facts_lag_seconds"]) == (0, 0)  # fmt: skip


def test_metrics_show_the_audit_entries_waiting_for_the_sealer(
    client: TestClient, auth: Any, session: Session
) -> None:
    sealing.seal(session, all_visible=True)  # the demo data's entries
    assert (_gauges(client)["askel_audit_unsealed"],
            _gauges(client)["askel_audit_sealing_lag_seconds"]) == (0, 0)  # fmt: skip
    client.post("/api/v1/patients/lookup", json={"hetu": "131052-308T"},
                headers=auth("doctor.kaskinen"))  # fmt: skip
    waiting = _gauges(client)
    assert waiting["askel_audit_unsealed"] >= 1
    assert waiting["askel_audit_sealing_lag_seconds"] > 0
    sealing.seal(session, all_visible=True)
    sealed = _gauges(client)
    assert (sealed["askel_audit_unsealed"], sealed["askel_audit_sealing_lag_seconds"]) == (0, 0)


@pytest.mark.parametrize(
    "incoming",
    ["8a1f0f3e-5c3b-4d2e-9a6b-2f1e0d9c8b7a", "8A1F0F3E5C3B4D2E9A6B2F1E0D9C8B7A"],
)
def test_a_request_id_in_askels_own_form_is_kept(client: TestClient, incoming: str) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert kept.headers["x-request-id"] == "8a1f0f3e5c3b4d2e9a6b2f1e0d9c8b7a"


@pytest.mark.parametrize(
    "incoming", ["abc-123", "131052-308T", "bad id\nwith newline", "x" * 32, "8a1f0f3e" * 5]
)
def test_any_other_request_id_is_replaced_everywhere(
    client: TestClient, auth: Any, session: Session, incoming: str
) -> None:
    response = client.post(
        "/api/v1/patients/lookup",
        json={"hetu": "150377-9011"},
        headers={**auth("doctor.laihia"), "X-Request-ID": incoming},
    )
    given = response.headers["x-request-id"]
    assert given != incoming
    assert uuid.UUID(given).hex == given
    entry = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert entry.request_id == given


def test_the_access_line_names_the_route_not_the_address(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="askel.access")
    request_id = uuid.uuid4().hex
    client.get("/api/v1/nothing?secret=1", headers={"X-Request-ID": request_id})
    record = next(r for r in caplog.records if r.name == "askel.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "<unmatched>"
    assert line["status"] == 404
    assert line["request_id"] == request_id
    assert "secret" not in json.dumps(line)
