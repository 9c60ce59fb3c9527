"""The OpenAPI document, completed with what holds for every operation rather than one: the
refusals that come before an endpoint runs (oversized, too deep, too fast), the validation
error in its problem+json form, errors under /fhir as OperationOutcomes, and the links from a
created record to what can be done with it next."""

from __future__ import annotations

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
from app.hardening import HeadersTooLarge, JsonTooDeep, PayloadTooLarge

# (path, method) of a create -> {link name: (path, method of the next operation, parameter)}:
# the created record's `id` fills the parameter.
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
    ("/api/v1/patients", "post"): {
        "consents": ("/api/v1/patients/{patient_id}/consents", "get", "patient_id"),
        "give_consent": ("/api/v1/patients/{patient_id}/consents", "post", "patient_id"),
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
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            errors: list[type[AppError]] = [HeadersTooLarge]
            if "requestBody" in operation:
                errors += [AppError, JsonTooDeep, PayloadTooLarge]
            if operation.get("security"):
                errors += [Unauthenticated, InvalidToken, RateLimited]
            _add(responses, errors)
            if PROBLEM_JSON not in responses.get("422", {}).get("content", {PROBLEM_JSON: 1}):
                # FastAPI's own description of a validation error; ours is a problem.
                responses["422"] = _documented(ValidationFailed)
            if path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/"):
                _as_operation_outcomes(responses)
            for name, (target, target_method, parameter) in NEXT_STEPS.get(
                (path, method), {}
            ).items():
                created = responses.get("201") or responses["200"]
                created.setdefault("links", {})[name] = {
                    "operationRef": _operation_ref(target, target_method),
                    "parameters": {parameter: "$response.body#/id"},
                }


def _documented(error: type[AppError]) -> dict[str, Any]:
    return _with_problem_schema(problem_responses(error)[error.status])


def _add(responses: dict[str, Any], errors: list[type[AppError]]) -> None:
    for status, entry in problem_responses(*errors).items():
        existing = responses.get(str(status))
        if existing is None:
            responses[str(status)] = _with_problem_schema(entry)
        elif entry["description"] not in existing.get("description", ""):
            existing["description"] = f"{existing.get('description', '')}, {entry['description']}"


def _with_problem_schema(entry: dict[str, Any]) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": entry["description"], "content": {PROBLEM_JSON: {"schema": schema}}}


def _as_operation_outcomes(responses: dict[str, Any]) -> None:
    outcome = {"type": "object", "properties": {"resourceType": {"const": "OperationOutcome"}}}
    for status, entry in responses.items():
        if status.startswith(("4", "5")):
            entry["content"] = {FHIR_JSON: {"schema": outcome}}


def _operation_ref(path: str, method: str) -> str:
    pointer = path.replace("~", "~0").replace("/", "~1")  # RFC 6901
    return f"#/paths/{pointer}/{method}"
