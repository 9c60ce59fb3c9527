"""Every number and date a client sends has bounds in the OpenAPI document, and a value at a bound
or past it gets an answer, never a 500: at the bound the request runs through to the database,
past it it is a 422 that names the field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.types import EARLIEST, INT64_MAX, LATEST
from tests.access.test_matrix import caller
from tests.fixtures.factories import demo_patient, send_referral
from tests.test_hardening import request_schemas
from tests.test_openapi import operations

Auth = Callable[[str], dict[str, str]]
Schema = dict[str, Any]
INT64_MIN = -(2**63)
NUMERIC = ("integer", "number")
DATES = ("date", "date-time")


def test_every_number_a_client_sends_has_bounds_within_64_bits(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    numbers = [
        (where, schema)
        for where, schema in request_schemas(document)
        if schema.get("type") in NUMERIC
    ]
    assert numbers
    for where, schema in numbers:
        assert "minimum" in schema or "exclusiveMinimum" in schema, where
        assert "maximum" in schema or "exclusiveMaximum" in schema, where
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        assert INT64_MIN <= low <= high <= INT64_MAX, where


def test_bounds_are_written_in_json_schema_words(client: TestClient) -> None:
    """Pydantic writes a bound it cannot place as its own keyword (`ge`, `le`), which no JSON
    Schema reader knows: a nullable visit field's 0-7 days went unseen."""
    text = client.get("/openapi.json").text
    for word in ("ge", "le", "gt", "lt", "multiple_of"):
        assert f'"{word}":' not in text, word
    visit = client.get("/openapi.json").json()["components"]["schemas"]["VisitIn"]
    days = visit["properties"]["mvpa_days_per_week"]["anyOf"]
    assert {"type": "integer", "minimum": 0, "maximum": 7} in days
    assert {"type": "null"} in days


def test_every_date_a_client_sends_has_a_range(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    dates = [(where, schema) for where, schema in request_schemas(document)
             if schema.get("format") in DATES]  # fmt: skip
    assert dates
    for where, schema in dates:
        # A birth date reaches back to 1880; every other date is within the service's range.
        earliest = "^(18[89][0-9]|19[0-9]{2}|" if where.endswith("birth_date") else "^("
        assert schema.get("pattern", "").startswith(f"{earliest}20[0-9]{{2}}|2100)-"), where


def _edges(schema: Schema) -> tuple[list[str], list[str]]:
    """Values at the bounds, which must run through, and past them, which must be refused."""
    if schema["type"] == "integer":
        low, high = schema["minimum"], schema["maximum"]
        return [str(low), str(high)], [str(low - 1), str(high + 1), str(2**64)]
    if schema.get("format") == "date":
        before, after = EARLIEST - timedelta(days=1), LATEST + timedelta(days=1)
        return [str(EARLIEST), str(LATEST)], [str(before), str(after), "0001-01-01", "9999-12-31"]
    return (
        [f"{EARLIEST}T00:00:00+02:00", f"{LATEST}T23:59:59+02:00"],
        # Past the ends as written, or only in Helsinki time, as it would be shown.
        [f"{EARLIEST - timedelta(days=1)}T23:59:59+02:00", f"{EARLIEST}T00:00:00+14:00",
         f"{LATEST}T23:59:59-12:00", f"{LATEST + timedelta(days=1)}T00:00:00Z",
         "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"],
    )  # fmt: skip


def _ordinary(schema: Schema) -> str:
    """A value a required parameter can have while another one is put at its bounds."""
    if "anyOf" in schema:
        return _ordinary(schema["anyOf"][0])
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return str(schema["minimum"])
    if schema.get("examples"):
        return str(schema["examples"][0])
    return {r"^\d{3}$": "399"}.get(schema.get("pattern", ""), "x")


def _query_bounds(client: TestClient) -> Iterator[Any]:
    document = client.get("/openapi.json").json()
    for path, method, operation in operations(document):
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            schema = parameter["schema"]
            # An optional parameter's schema is `anyOf` it and null.
            schema = next((s for s in schema.get("anyOf", []) if s.get("type") != "null"), schema)
            if parameter["in"] == "query" and (
                schema.get("type") == "integer" or schema.get("format") in DATES
            ):
                yield method, path, parameters, parameter["name"], schema


def test_every_query_parameter_answers_at_its_bounds_and_refuses_past_them(
    client: TestClient, auth: Auth
) -> None:
    checked = set()
    for method, path, parameters, name, schema in _query_bounds(client):
        url = path
        query = {}
        for parameter in parameters:
            value = _ordinary(parameter["schema"])
            if parameter["in"] == "path":
                url = url.replace(f"{{{parameter['name']}}}", value)
            elif parameter["required"]:
                query[parameter["name"]] = value
        headers = auth(caller(method, path))
        inside, outside = _edges(schema)
        for value in inside:
            answer = client.request(method, url, params={**query, name: value}, headers=headers)
            assert answer.status_code < 500, (method, path, name, value, answer.text)
            # A time echoed back is shown in Helsinki time: still inside the range.
            assert not re.search(r'"(1999|2101)-[0-9]{2}-[0-9]{2}T', answer.text), answer.text
        for value in outside:
            answer = client.request(method, url, params={**query, name: value}, headers=headers)
            assert answer.status_code == 422, (method, path, name, value, answer.text)
            assert [f["field"] for f in answer.json()["errors"]] == [f"query.{name}"], answer.text
        checked.add(f"{method} {path} {name}")
    # The ones that answered 500 before they had bounds.
    assert {"get /api/v1/slots start", "get /api/v1/audit/events start",
            "get /api/v1/referrals/{referral_id}/plan version",
            "get /api/v1/stats/referrals sent_to"} <= checked  # fmt: skip


@pytest.mark.parametrize(
    "if_match", [b'"9223372036854775808"', b'"99999999999999999999999999"', b'W/"\xb2"']
)
def test_an_if_match_beyond_any_version_is_stale_not_a_failure(
    client: TestClient, auth: Auth, session: Session, if_match: bytes
) -> None:
    """A version past 64 bits, or a digit of another script ("²" in Latin-1), names no
    version: 412, as any other stale one."""
    referral = send_referral(client, auth, demo_patient(session, "399").id)
    headers: dict[str, Any] = {**auth("counsellor1.laihia"), "If-Match": if_match}
    answer = client.post(f"/api/v1/referrals/{referral['id']}/accept", headers=headers)
    assert answer.status_code == 412, answer.text
