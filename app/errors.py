"""Errors as classes, rendered as RFC 9457 `application/problem+json`.

Every error a client can cause is an `AppError` subclass with a stable `code`, a status and
translatable `title`/`detail` texts. Anything else is a bug: it is logged with the request id and
answered with a generic 500 that carries no stack trace, SQL or input.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import N_, Language, negotiate_language, translate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"
# Under /fhir errors are OperationOutcomes, with these FHIR issue types by status.
FHIR_PREFIX = "/fhir"
_ISSUE_TYPES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                405: "not-supported", 409: "conflict", 412: "conflict", 413: "too-long",
                422: "invalid", 428: "required", 429: "throttled"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RefusalContext:
    """What a refused request tried to reach, for the audit log."""

    resource_type: str | None = None
    resource_id: str | None = None
    patient_id: str | None = None


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = N_("Bad request")
    detail: ClassVar[str] = N_("The request could not be processed.")
    # Set on refusals of access: they are written to the audit log with this outcome.
    audit_outcome: ClassVar[str | None] = None
    default_headers: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(
        self,
        *,
        refusal: RefusalContext | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
        **params: object,
    ) -> None:
        super().__init__(self.code)
        self.params = params
        self.refusal = refusal or RefusalContext()
        self.headers = {**dict(self.default_headers), **(headers or {})}
        self.extensions = extensions or {}

    def problem(self, language: Language, instance: str) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.code}",
            "title": translate(self.title, language),
            "status": self.status,
            "detail": translate(self.detail, language, **self._translated_params(language)),
            "code": self.code,
            "instance": instance,
            **self.extensions,
        }

    def _translated_params(self, language: Language) -> dict[str, object]:
        # Parameters that are message ids themselves (reasons) are shown in the same language.
        return {
            name: translate(value, language) if isinstance(value, str) else value
            for name, value in self.params.items()
        }


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    title = N_("Authentication required")
    detail = N_("Send a valid bearer token in the Authorization header.")
    default_headers = (("WWW-Authenticate", "Bearer"),)


class InvalidToken(AppError):
    status = 401
    code = "invalid_token"
    title = N_("Invalid token")
    detail = N_("The bearer token was not accepted: {reason}.")
    default_headers = (("WWW-Authenticate", 'Bearer error="invalid_token"'),)


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = N_("Not allowed")
    detail = N_("Your role does not allow this action.")
    audit_outcome = "refused"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = N_("Not found")
    detail = N_("The record does not exist or you may not see it.")
    audit_outcome = "not_found"


class RouteNotFound(AppError):
    status = 404
    code = "route_not_found"
    title = N_("Not found")
    detail = N_("There is no such address in this service.")


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"
    title = N_("Method not allowed")
    detail = N_("This address does not accept that method.")


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"
    title = N_("Invalid request")
    detail = N_("Some fields of the request are missing or invalid.")


class InternalError(AppError):
    status = 500
    code = "internal_error"
    title = N_("Internal error")
    detail = N_("Something went wrong on our side. The error has been logged.")


class ProblemField(BaseModel):
    field: str
    code: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable, machine-readable error code.")
    instance: str
    errors: list[ProblemField] | None = None


def problem_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these errors in the OpenAPI document."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = out.setdefault(
            error.status,
            {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": ""},
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], f"`{error.code}`"]))
    return out


# Validation messages by pydantic error type; the rest fall back to a generic text.
_VALIDATION_MESSAGES = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not allowed."),
    "string_too_short": N_("The text is too short."),
    "string_too_long": N_("The text is too long."),
    "string_pattern_mismatch": N_("The text is not in the expected format."),
    "string_type": N_("A text value is expected."),
    "int_parsing": N_("A whole number is expected."),
    "int_type": N_("A whole number is expected."),
    "bool_parsing": N_("A true/false value is expected."),
    "bool_type": N_("A true/false value is expected."),
    "enum": N_("The value is not one of the allowed values."),
    "literal_error": N_("The value is not one of the allowed values."),
    "uuid_parsing": N_("A valid identifier (UUID) is expected."),
    "date_parsing": N_("A valid date is expected."),
    "datetime_parsing": N_("A valid date and time is expected."),
    "json_invalid": N_("The body is not valid JSON."),
    "model_attributes_type": N_("A JSON object is expected."),
    "dict_type": N_("A JSON object is expected."),
    "list_type": N_("A list is expected."),
    "greater_than_equal": N_("The value is too small."),
    "less_than_equal": N_("The value is too large."),
}
_GENERIC_VALIDATION_MESSAGE = N_("The value is not valid.")


def _validation_fields(exc: RequestValidationError, language: Language) -> list[dict[str, str]]:
    # Never echo `input`: the body may hold a personal identity code.
    fields = []
    for error in exc.errors():
        kind = str(error.get("type", "value_error"))
        message = _VALIDATION_MESSAGES.get(kind, _GENERIC_VALIDATION_MESSAGE)
        fields.append(
            {
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "code": kind,
                "message": translate(message, language),
            }
        )
    return fields


def operation_outcome(problem: dict[str, Any]) -> dict[str, Any]:
    """The same error as a FHIR OperationOutcome: Askel's code in `details`, the localised
    detail as diagnostics, one more issue for each invalid field."""
    issues = [
        {
            "severity": "error",
            "code": _ISSUE_TYPES.get(problem["status"], "exception"),
            "details": {
                "coding": [{"system": "urn:askel:error", "code": problem["code"]}],
                "text": problem["title"],
            },
            "diagnostics": problem["detail"],
        }
    ]
    issues += [
        {"severity": "error", "code": "invalid", "expression": [field["field"]],
         "diagnostics": field["message"]}
        for field in problem.get("errors", [])
    ]  # fmt: skip
    return {"resourceType": "OperationOutcome", "issue": issues}


def problem_response(request: Request, error: AppError) -> JSONResponse:
    language = negotiate_language(request.headers.get("accept-language"))
    body = error.problem(language, request.url.path)
    headers = {"Content-Language": language, **error.headers}
    path = request.url.path
    if path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/"):
        outcome = operation_outcome(body)
        return JSONResponse(
            outcome, status_code=error.status, media_type=FHIR_JSON, headers=headers
        )
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM_JSON, headers=headers)


def _allowed_methods(request: Request, starlettes: str) -> str:
    """Every method the API document has at this address (Starlette's own header names only
    the first route's, and an address may have a route per method)."""
    for template, item in request.app.openapi()["paths"].items():
        parts = re.split(r"(\{[^}/]+\})", template)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        if re.fullmatch(pattern, request.url.path):
            methods = {method.upper() for method in item}
            return ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return starlettes


RefusalRecorder = Callable[[Request, AppError], Awaitable[None]]


def install_error_handlers(app: FastAPI, record_refusal: RefusalRecorder) -> None:
    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        if exc.audit_outcome:
            await record_refusal(request, exc)
        return problem_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        language = negotiate_language(request.headers.get("accept-language"))
        error = ValidationFailed(extensions={"errors": _validation_fields(exc, language)})
        return problem_response(request, error)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error: AppError
        if exc.status_code == 404:
            error = RouteNotFound()
        elif exc.status_code == 405:
            allow = _allowed_methods(request, (exc.headers or {}).get("Allow", ""))
            error = MethodNotAllowed(headers={"Allow": allow})
        else:
            error = AppError()
        return problem_response(request, error)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Where it failed, not what it said: an exception's message may quote personal data.
        log.error(
            "unhandled error",
            extra={
                "error_type": type(exc).__name__,
                "traceback": "".join(traceback.format_tb(exc.__traceback__)),
            },
        )
        return problem_response(request, InternalError())

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
