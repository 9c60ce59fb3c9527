"""The OpenAPI document, completed with what holds for every operation rather than one: the
refusals that come before an endpoint runs (oversized, too deep, a NUL, too fast), the validation
error in its problem+json form, errors under /fhir as OperationOutcomes, and the links from a
created record to what can be done with it next."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.access.throttle import RateLimited
from app.errors import (
    FHIR_JSON,
    FHIR_PREFIX,
    PROBLEM_JSON,
    AppError,
    InvalidToken,
    Unauthenticated,
    ValidationFailed,
    problem_responses,
)
from app.hardening import HeadersTooLarge, JsonTooDeep, NulCharacter, PayloadTooLarge

# (path, method) of a create -> {link name: (path, method of the next operation, parameter)}:
# the created record's `id` fills the parameter (`body.NAME`: that field of the request body).
NEXT_STEPS: dict[tuple[str, str], dict[str, tuple[str, str, str]]] = {
    ("/api/v1/referrals", "post"): {
        "read": ("/api/v1/referrals/{referral_id}", "get", "referral_id"),
        "events": ("/api/v1/referrals/{referral_id}/events", "get", "referral_id"),
        "accept": ("/api/v1/referrals/{referral_id}/accept", "post", "referral_id"),
        "reject": ("/api/v1/referrals/{referral_id}/reject", "post", "referral_id"),
        "return": ("/api/v1/referrals/{referral_id}/return", "post", "referral_id"),
        "cancel": ("/api/v1/referrals/{referral_id}/cancel", "post", "referral_id"),
        "book_by_service": (
            "/api/v1/referrals/{referral_id}/book-by-service", "post", "referral_id"
        ),
        "visits": ("/api/v1/referrals/{referral_id}/visits", "get", "referral_id"),
        "plan": ("/api/v1/referrals/{referral_id}/plan", "get", "referral_id"),
    },
    # A patient's consents are another matter: they need a care relationship, a referral.
    ("/api/v1/patients", "post"): {
        "refer": ("/api/v1/referrals", "post", "body.patient_id"),
    },
    ("/api/v1/appointments", "post"): {
        "read": ("/api/v1/appointments/{appointment_id}", "get", "appointment_id"),
        "cancel": ("/api/v1/appointments/{appointment_id}/cancel", "post", "appointment_id"),
        "reschedule": (
            "/api/v1/appointments/{appointment_id}/reschedule", "post", "appointment_id"
        ),
    },
    ("/api/v1/admin/access-grants", "post"): {
        "attest": ("/api/v1/admin/access-grants/{grant_id}/attest", "post", "grant_id"),
        "revoke": ("/api/v1/admin/access-grants/{grant_id}/revoke", "post", "grant_id"),
    },
}  # fmt: skip


# A value of a format no field gives an example of (the same in every request body).
_FORMAT_EXAMPLES = {"uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "time": "09:00:00"}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            complete(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> None:
    components = document.get("components", {}).get("schemas", {})
    _whole_bounds(components)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                # "Try it out" starts from a body the API takes, not "string" in every field.
                with suppress(LookupError):
                    media.setdefault("example", example(media["schema"], components))
            _repeated_query_parameters(operation)
            responses: dict[str, Any] = operation.setdefault("responses", {})
            errors: list[type[AppError]] = [HeadersTooLarge, NulCharacter]
            if "requestBody" in operation:
                errors += [AppError, JsonTooDeep, PayloadTooLarge]
            if operation.get("security"):
                errors += [Unauthenticated, InvalidToken, RateLimited]
            _add(responses, errors)
            if PROBLEM_JSON not in responses.get("422", {}).get("content", {PROBLEM_JSON: 1}):
                # FastAPI's own description of a validation error; ours is a problem.
                responses["422"] = {"description": f"`{ValidationFailed.code}`"}
            fhir = path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/")
            _errors_in_their_form(responses, fhir)
            for name, (target, target_method, parameter) in NEXT_STEPS.get(
                (path, method), {}
            ).items():
                created = responses.get("201") or responses["200"]
                link: dict[str, Any] = {"operationRef": _operation_ref(target, target_method)}
                if parameter.startswith("body."):
                    link["requestBody"] = {parameter.removeprefix("body."): "$response.body#/id"}
                else:
                    link["parameters"] = {parameter: "$response.body#/id"}
                created.setdefault("links", {})[name] = link


def _whole_bounds(node: Any) -> None:
    """FastAPI writes the bounds in component schemas as floats (an integer field's 0 to 7 as
    0.0 to 7.0): an integer's bounds are integers again (exact: a body's are below 2**53)."""
    if isinstance(node, list):
        for item in node:
            _whole_bounds(item)
    elif isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if isinstance(node.get(key), float):
                    node[key] = int(node[key])
        for value in node.values():
            _whole_bounds(value)


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A value the schema accepts, built from its fields' examples: every required field, and
    the optional ones that give an example. A text field without one is a LookupError (and the
    body has no example, which a test finds): only its author knows what a valid one is."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("default") is not None:
        return schema["default"]
    if "anyOf" in schema:
        return example(next(s for s in schema["anyOf"] if s.get("type") != "null"), components)
    kind = schema.get("type")
    if kind == "object":
        required = set(schema.get("required", []))
        return {
            name: example(field, components)
            for name, field in schema.get("properties", {}).items()
            if name in required or _has_example(field, components)
        }
    if kind == "array":
        return [example(schema["items"], components)] * max(1, schema.get("minItems", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return True
    if schema.get("format") in _FORMAT_EXAMPLES:
        return _FORMAT_EXAMPLES[schema["format"]]
    raise LookupError(f"no example for {schema}")


def _has_example(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return _has_example(components[schema["$ref"].rsplit("/", 1)[1]], components)
    return "examples" in schema or any(_has_example(s, components) for s in schema.get("anyOf", []))


def _repeated_query_parameters(operation: dict[str, Any]) -> None:
    """A list in the query is the parameter repeated (`?group_by=month&group_by=service`), as
    the code reads it: written as the array it is, in OpenAPI's words for repeating it."""
    for parameter in operation.get("parameters", []):
        schema = parameter["schema"]
        arrays = [s for s in schema.get("anyOf", [schema]) if s.get("type") == "array"]
        if parameter["in"] != "query" or not arrays:
            continue
        parameter["schema"] = {**arrays[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
        parameter.update(style="form", explode=True)
        name, values = parameter["name"], arrays[0]["items"].get("enum", ["…"])[:2]
        repeated = "&".join(f"{name}={value}" for value in values)
        parameter.setdefault("description", "")
        parameter["description"] = (
            f"{parameter['description']} Repeat for more: `?{repeated}`.".strip()
        )


def _add(responses: dict[str, Any], errors: list[type[AppError]]) -> None:
    for status, entry in problem_responses(*errors).items():
        existing = responses.get(str(status))
        if existing is None:
            responses[str(status)] = {"description": entry["description"]}
        elif entry["description"] not in existing.get("description", ""):
            existing["description"] = f"{existing.get('description', '')}, {entry['description']}"


def _errors_in_their_form(responses: dict[str, Any], fhir: bool) -> None:
    """Every error as it is answered: a problem, or under /fhir an OperationOutcome (FastAPI
    would also list the model under application/json, which no error is sent as)."""
    outcome = {"type": "object", "properties": {"resourceType": {"const": "OperationOutcome"}}}
    problem = {"$ref": "#/components/schemas/Problem"}
    for status, entry in responses.items():
        if status.startswith(("4", "5")):
            entry["content"] = (
                {FHIR_JSON: {"schema": outcome}} if fhir else {PROBLEM_JSON: {"schema": problem}}
            )


def _operation_ref(path: str, method: str) -> str:
    pointer = path.replace("~", "~0").replace("/", "~1")  # RFC 6901
    return f"#/paths/{pointer}/{method}"
