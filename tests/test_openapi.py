"""The generated OpenAPI document is the contract: every operation is described and documents
its errors as problem+json."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


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
