"""Hostile input: what is too large or too deep is refused before anything parses it, unknown
fields and unbounded strings have no way in, a flood meets 429, and every response carries the
security headers; CORS is closed unless origins are configured."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.config import Settings
from app.hardening import json_depth
from app.kit.rate_limit import RateLimiter
from app.main import create_app
from app.patients.models import Patient
from app.referrals.models import Referral
from tests.fixtures.factories import demo_patient, referral_body

Auth = Callable[[str], dict[str, str]]
DOCTOR = "doctor.laihia"


def referrals(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Referral)) or 0


def nested(depth: int) -> bytes:
    return b'{"goal": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_oversized_body_is_refused_before_the_token_is_even_read(
    client: TestClient, session: Session, language: str
) -> None:
    before = referrals(session)
    response = client.post(
        "/api/v1/referrals",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers={"Content-Type": "application/json", "Accept-Language": language},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"
    assert response.headers["content-language"] == language
    assert referrals(session) == before


def test_a_body_without_a_length_is_cut_off_at_the_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"reason_text": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/v1/referrals", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_oversized_headers_are_refused(client: TestClient) -> None:
    response = client.get("/api/v1/services", headers={"X-Padding": "x" * 20_000})
    assert response.status_code == 431
    assert response.json()["code"] == "headers_too_large"


def test_json_nested_too_deep_is_refused_before_it_is_parsed(
    client: TestClient, auth: Auth
) -> None:
    headers = {**auth(DOCTOR), "Content-Type": "application/json"}
    deep = client.post("/api/v1/referrals", content=nested(10_000), headers=headers)
    assert deep.status_code == 400
    assert deep.json()["code"] == "json_too_deep"
    # Within the limit, the schema decides.
    shallow = client.post("/api/v1/referrals", content=nested(5), headers=headers)
    assert shallow.status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/v1/patients", b'{"given_name": "A\\u0000", "hetu": "010101-123N"}'),
     ("/api/v1/patients?x=%00", b"{}"), ("/api/v1/patients", b'{"given_name": "A\x00"}')],
)  # fmt: skip
def test_a_nul_character_is_refused_before_it_reaches_the_database(
    client: TestClient, auth: Auth, session: Session, path: str, body: bytes
) -> None:
    before = session.scalar(select(func.count()).select_from(Patient))
    headers = {**auth(DOCTOR), "Content-Type": "application/json"}
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "nul_character"
    assert session.scalar(select(func.count()).select_from(Patient)) == before


def test_an_escaped_backslash_before_u0000_is_text_not_nul(client: TestClient, auth: Auth) -> None:
    body = b'{"hetu": "010101-123N", "given_name": "A\\\\u0000"}'
    response = client.post("/api/v1/patients/lookup", content=body, headers={
        **auth(DOCTOR), "Content-Type": "application/json"})  # fmt: skip
    assert response.json().get("code") != "nul_character"


@pytest.mark.parametrize(
    ("body", "depth"),
    [(b"{}", 1), (b'[[1], {"a": [2]}]', 3), (b'{"a": "[[[{{{"}', 1), (b'["\\"[[", [0]]', 2),
     (b"42", 0)],
)  # fmt: skip
def test_nesting_is_measured_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_unknown_fields_are_rejected_not_ignored(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient = demo_patient(session, "399")
    body = {**referral_body(patient.id), "status": "accepted"}
    response = client.post("/api/v1/referrals", json=body, headers=auth(DOCTOR))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(error["field"], error["code"]) for error in errors] == [
        ("body.status", "extra_forbidden")
    ]


def request_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema a client sends: request bodies and parameters, with what they refer to."""
    components = document["components"]["schemas"]
    seen: set[str] = set()

    def walk(where: str, schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                yield from walk(name, components[name])
            return
        yield where, schema
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                yield from walk(where, option)
        for name, field in schema.get("properties", {}).items():
            yield from walk(f"{where}.{name}", field)
        if isinstance(schema.get("items"), dict):
            yield from walk(f"{where}[]", schema["items"])

    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                yield from walk(f"{method} {path} {parameter['name']}", parameter["schema"])
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                yield from walk(f"{method} {path} body", media["schema"])


def test_every_object_a_client_sends_forbids_unknown_fields(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    open_objects = [
        where
        for where, schema in request_schemas(document)
        if schema.get("type") == "object" and schema.get("additionalProperties") is not False
    ]
    assert open_objects == []


def test_every_string_a_client_sends_is_bounded(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    bounded_formats = {"uuid", "date", "date-time", "time", "email"}
    unbounded = [
        where
        for where, schema in request_schemas(document)
        if schema.get("type") == "string"
        and "maxLength" not in schema
        and "enum" not in schema
        and "const" not in schema
        and schema.get("format") not in bounded_formats
        and not _bounded_pattern(schema.get("pattern"))
    ]
    assert unbounded == []


def _bounded_pattern(pattern: str | None) -> bool:
    """Anchored at both ends with no open-ended repetition: a pattern that bounds the length."""
    if not pattern or not (pattern.startswith("^") and pattern.endswith("$")):
        return False
    unescaped = re.sub(r"\\.", "", pattern)
    return not re.search(r"[*+]|,}", unescaped)


@pytest.fixture
def limited(settings: Settings, connection: Connection) -> Iterator[TestClient]:
    strict = settings.model_copy(
        update={
            "rate_limit_client_per_minute": 20,
            "rate_limit_user_per_minute": 10,
            "rate_limit_user_writes_per_minute": 3,
        }
    )
    app: FastAPI = create_app(strict, database=db.Database(connection))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _token(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/dev/token", json={"username": username}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_user_writing_too_fast_meets_429_and_others_do_not(
    limited: TestClient, session: Session
) -> None:
    doctor, nurse = _token(limited, DOCTOR), _token(limited, "nurse.laihia")
    lookup = {"hetu": "010101-123N"}
    answers = [
        limited.post("/api/v1/patients/lookup", json=lookup, headers=doctor).status_code
        for _ in range(4)
    ]
    assert 429 not in answers[:3]
    assert answers[3] == 429
    refused = limited.post("/api/v1/patients/lookup", json=lookup, headers=doctor)
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    # Reads have their own, larger allowance; another user has their own.
    assert limited.get("/api/v1/services", headers=doctor).status_code == 200
    assert limited.post("/api/v1/patients/lookup", json=lookup, headers=nurse).status_code != 429


def test_guessing_tokens_from_one_client_meets_429(limited: TestClient) -> None:
    answers = [
        limited.get("/api/v1/services", headers={"Authorization": f"Bearer guess{n}"}).status_code
        for n in range(21)
    ]
    assert set(answers[:20]) == {401}
    assert answers[20] == 429


def test_the_bucket_refills_over_the_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [None, None]
    wait = limiter.take("a")
    assert wait == pytest.approx(30.0)
    now[0] += 30
    assert limiter.take("a") is None
    assert limiter.take("b") is None


def test_the_buckets_forget_the_oldest_keys_beyond_their_bound() -> None:
    limiter = RateLimiter(1, max_keys=2, clock=lambda: 0.0)
    for key in ("a", "b", "c"):
        assert limiter.take(key) is None
    # "a" was forgotten, so it starts afresh; "c" is still spent.
    assert limiter.take("a") is None
    assert limiter.take("c") is not None


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("GET", "/api/v1/services", 401), ("GET", "/nowhere", 404),
     ("POST", "/api/v1/referrals", 413)],
)  # fmt: skip
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    body = b"x" * (2 * 1024 * 1024) if status == 413 else None
    response = client.request(method, path, content=body)
    assert response.status_code == status
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["referrer-policy"] == "no-referrer"


def test_cors_is_closed_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/services",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_opens_only_to_the_configured_origins(
    settings: Settings, connection: Connection
) -> None:
    opened = settings.model_copy(update={"cors_origins": ["https://askel.example.fi"]})
    app = create_app(opened, database=db.Database(connection))
    with TestClient(app) as client:
        asked = {"Access-Control-Request-Method": "GET"}
        allowed = client.options(
            "/api/v1/services", headers={"Origin": "https://askel.example.fi", **asked}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://askel.example.fi"
        other = client.options(
            "/api/v1/services", headers={"Origin": "https://example.org", **asked}
        )
        assert "access-control-allow-origin" not in other.headers


def test_the_limits_answer_in_the_callers_language(client: TestClient) -> None:
    response = client.get(
        "/api/v1/services", headers={"X-Padding": "x" * 20_000, "Accept-Language": "sv"}
    )
    assert response.json()["title"] == "Begärans rubriker är för stora"
    assert json.loads(response.text)["status"] == 431
