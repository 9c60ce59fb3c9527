"""Every error is RFC 9457 problem+json, in Finnish, Swedish or English."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from app.errors import RULES, VALIDATION_MESSAGES, AppError, InternalError
from app.i18n import LANGUAGES, catalog
from app.observability import JsonFormatter


@pytest.mark.parametrize(
    ("header", "title"),
    [
        (None, "Ei löytynyt"),
        ("fi", "Ei löytynyt"),
        ("sv-FI", "Hittades inte"),
        ("en-GB,en;q=0.8", "Not found"),
        ("de, sv;q=0.5, en;q=0.9", "Not found"),
        ("de", "Ei löytynyt"),
    ],
)
def test_unknown_routes_answer_problem_json_in_the_callers_language(
    client: TestClient, header: str | None, title: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    response = client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == title
    assert body["code"] == "route_not_found"
    assert body["type"] == "/problems/route_not_found"
    assert body["instance"] == "/api/v1/nothing-here"


def test_a_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, HEAD"
    # One address, a route for each method: Allow names them all.
    both = client.delete("/api/v1/appointments")
    assert both.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fi", "Kenttä on pakollinen."),
        ("sv", "Fältet är obligatoriskt."),
        ("en", "This field is required."),
    ],
)
def test_validation_errors_are_localised(client: TestClient, language: str, message: str) -> None:
    response = client.post("/dev/token", json={}, headers={"Accept-Language": language})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["errors"] == [{"field": "body.username", "code": "missing", "message": message}]


def test_malformed_json_is_a_422_problem(client: TestClient) -> None:
    response = client.post(
        "/dev/token", content=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "json_invalid"


@pytest.fixture
def failing_client(app: FastAPI) -> Iterator[TestClient]:
    @app.get("/boom")
    def boom() -> None:
        # Built at run time, so that only the message (not this source line) could leak it.
        hetu = f"{131051 + 1}-308T"
        raise RuntimeError(f"SELECT secret FROM patients WHERE hetu = '{hetu}'")

    # Raising what leaves the app, as the ASGI server would see (and log) it: nothing must.
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


def test_a_bug_is_a_generic_500_without_details(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = failing_client.get("/boom", headers={"Accept-Language": "sv"})
    # Logged once, on one path, as its type and frames: never its message.
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [(r.name, r.getMessage()) for r in logged] == [("app.errors", "unhandled error")]
    line = json.loads(JsonFormatter().format(logged[0]))
    assert line["error_type"] == "RuntimeError"
    assert "boom" in line["traceback"]
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert all("131052" not in text for text in lines)
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert response.json()["title"] == "Internt fel"
    assert "SELECT" not in response.text
    assert "131052" not in response.text
    assert "Traceback" not in response.text


def all_error_classes() -> list[type[AppError]]:
    found: list[type[AppError]] = []
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_class_is_translated() -> None:
    import app.main  # noqa: F401 - registers every domain's errors

    missing = [
        (language, cls.__name__, text)
        for cls in all_error_classes()
        for text in (cls.title, cls.detail)
        for language in LANGUAGES
        if language != "en" and text not in catalog(language)
    ]
    assert missing == []
    assert InternalError in all_error_classes()


def test_every_validation_message_and_rule_is_translated() -> None:
    import app.main  # noqa: F401 - declares every domain's rules

    texts = [*VALIDATION_MESSAGES.values(), *(rule.message for rule in RULES.values())]
    missing = [
        (language, text)
        for text in texts
        for language in LANGUAGES
        if language != "en" and text not in catalog(language)
    ]
    assert missing == []
    assert len(RULES) >= 20


def test_every_code_is_unique() -> None:
    import app.main  # noqa: F401

    by_code: dict[str, list[str]] = {}
    for cls in all_error_classes():
        if "code" in vars(cls):
            by_code.setdefault(cls.code, []).append(cls.__name__)
    assert {code: names for code, names in by_code.items() if len(names) > 1} == {}
