"""The generated OpenAPI document is the contract: every operation is described and documents
its errors as problem+json."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from app.openapi import example
from tests.access.test_matrix import caller


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_api_operation_is_described_and_documents_its_errors(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    api = [op for op in operations(document) if op[0].startswith("/api/")]
    assert api
    for path, method, operation in api:
        assert operation.get("description"), f"{method} {path} has no docstring"
        responses = operation["responses"]
        takes_input = "requestBody" in operation or operation.get("parameters")
        for status in ("401", "422") if takes_input else ("401",):
            assert status in responses, f"{method} {path} does not document {status}"
            assert "application/problem+json" in responses[status]["content"]
        # A refusal is 403 (the role lacks the function) or 404 (the record is not theirs).
        assert {"403", "404"} & set(responses), f"{method} {path} documents no refusal"
        assert operation.get("security"), f"{method} {path} does not declare bearer auth"


def test_the_problem_schema_is_published(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"type", "title", "status", "detail", "code"} <= set(schemas["Problem"]["properties"])


def test_every_error_response_is_documented_with_its_schema(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            where = f"{method} {path} {status}"
            if path.startswith("/fhir"):
                assert list(response["content"]) == ["application/fhir+json"], where
            else:
                assert response["content"] == {"application/problem+json": {"schema": problem}}, (
                    where
                )


def test_the_refusals_before_an_endpoint_runs_are_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, method, operation in operations(document):
        responses = set(operation["responses"])
        assert {"422", "431"} <= responses, f"{method} {path}"
        if "requestBody" in operation:
            assert {"400", "413"} <= responses, f"{method} {path}"
        if operation.get("security"):
            assert {"401", "429"} <= responses, f"{method} {path}"


def test_every_request_body_has_an_example_that_the_api_takes(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    """`/docs` "Try it out" starts from the example: it must satisfy the schema, and the API
    must take it as a body (its rules across fields too, which the schema cannot say)."""
    document = client.get("/openapi.json").json()
    resolver = {"components": document["components"]}
    checked = 0
    for path, method, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            where = f"{method} {path}"
            assert "example" in media, f"{where}: {_missing(media['schema'], document)}"
            Draft202012Validator({**media["schema"], **resolver}).validate(media["example"])
            if path.startswith("/api/"):
                url = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)
                headers = auth(caller(method, path))
                answer = client.request(method, url, json=media["example"], headers=headers)
                # Records the example names need not exist (404, or 422 `unknown_patient`);
                # the body itself must pass, and an identity code must be a valid one.
                refused = answer.json().get("code") if answer.status_code == 422 else None
                assert refused not in ("validation_failed", "invalid_hetu"), (
                    f"{where}: {answer.text}"
                )
                checked += 1
    assert checked > 15


def _missing(schema: dict[str, Any], document: dict[str, Any]) -> str:
    try:
        example(schema, document["components"]["schemas"])
    except LookupError as error:
        return str(error)
    return "no example"


def test_a_list_in_the_query_is_documented_as_the_parameter_repeated(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/api/v1/stats/visits", "/api/v1/stats/referrals"):
        (group_by,) = [p for p in document["paths"][path]["get"]["parameters"]
                       if p["name"] == "group_by"]  # fmt: skip
        assert group_by["style"] == "form"
        assert group_by["explode"] is True
        assert group_by["schema"]["type"] == "array"
        assert group_by["schema"]["maxItems"] == 4
        assert "month" in group_by["schema"]["items"]["enum"]
        assert "group_by=" in group_by["description"]
    # As the code reads it: each repetition is one grouping.
    answer = client.get(
        "/api/v1/stats/visits?group_by=month&group_by=service", headers=auth("statistician.region")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["group_by"] == ["month", "service"]
