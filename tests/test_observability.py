from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient

from app.observability import JsonFormatter


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


def test_a_safe_request_id_is_kept_and_a_bad_one_replaced(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert replaced.headers["x-request-id"] != "bad id\nwith newline"
    assert len(replaced.headers["x-request-id"]) == 32


def test_the_access_line_names_the_route_not_the_address(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="askel.access")
    client.get("/api/v1/nothing?secret=1", headers={"X-Request-ID": "req-1"})
    record = next(r for r in caplog.records if r.name == "askel.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "<unmatched>"
    assert line["status"] == 404
    assert line["request_id"] == "req-1"
    assert "secret" not in json.dumps(line)
