"""Errors as classes, rendered as RFC 9457 `application/problem+json`.

Every error a client can cause is an `AppError` subclass with a stable `code`, a status and
translatable `title`/`detail` texts. Anything else is a bug: it is logged with the request id and
answered with a generic 500 that carries no stack trace, SQL or input.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from string import Formatter
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class AccountRefused(InvalidToken):
    """A validly signed token whose account is unknown, deactivated or of another
    organisation: refused like any invalid token, and audited under the subject and issuer it
    claimed, since someone holding the issuer's signature tried."""

    audit_outcome = "refused"


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


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule a request's content must keep, beyond each field's type and bounds ("systolic
    pressure must be higher than diastolic"). Raise `rule.broken()` in a validator: the caller
    is told `code` and `message` in their language, at `field` of the object checked."""

    code: str
    message: str  # marked with N_; {name} placeholders are filled from broken()'s params
    field: str | None = None

    def __post_init__(self) -> None:
        if RULES.setdefault(self.code, self) is not self:
            raise ValueError(f"two rules have the code {self.code}")

    def broken(self, **params: object) -> PydanticCustomError:
        return PydanticCustomError(self.code, self.message, params)


# Every rule, by code: declared where the rule lives, all known once the app is imported.
RULES: dict[str, Rule] = {}

PERIOD_REVERSED = Rule("period_reversed", N_("The period ends before it begins."))

# Messages by pydantic's error type, with the limits its context gives (never the input).
VALIDATION_MESSAGES = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not allowed."),
    "string_too_short": N_("The text must have at least {min_length} characters."),
    "string_too_long": N_("The text can have at most {max_length} characters."),
    "string_pattern_mismatch": N_("The text is not in the expected format."),
    "string_type": N_("A text value is expected."),
    "int_parsing": N_("A whole number is expected."),
    "int_type": N_("A whole number is expected."),
    "int_from_float": N_("A whole number is expected."),
    "int_parsing_size": N_("The number is too large."),
    "float_parsing": N_("A number is expected."),
    "float_type": N_("A number is expected."),
    "finite_number": N_("A finite number is expected."),
    "bool_parsing": N_("A true/false value is expected."),
    "bool_type": N_("A true/false value is expected."),
    "enum": N_("The value must be one of: {allowed}."),
    "literal_error": N_("The value must be one of: {allowed}."),
    "uuid_parsing": N_("A valid identifier (UUID) is expected."),
    "uuid_type": N_("A valid identifier (UUID) is expected."),
    "date_parsing": N_("A valid date is expected, e.g. 2026-03-30."),
    "date_type": N_("A valid date is expected, e.g. 2026-03-30."),
    "date_from_datetime_parsing": N_("A valid date is expected, e.g. 2026-03-30."),
    "date_from_datetime_inexact": N_("A date without a time is expected, e.g. 2026-03-30."),
    "datetime_parsing": N_(
        "A date and time with its offset is expected, e.g. 2026-03-30T09:00:00+03:00."
    ),
    "datetime_type": N_(
        "A date and time with its offset is expected, e.g. 2026-03-30T09:00:00+03:00."
    ),
    "datetime_from_date_parsing": N_(
        "A date and time with its offset is expected, e.g. 2026-03-30T09:00:00+03:00."
    ),
    "timezone_aware": N_(
        "A date and time with its offset is expected, e.g. 2026-03-30T09:00:00+03:00."
    ),
    "time_parsing": N_("A valid time is expected, e.g. 09:30."),
    "time_type": N_("A valid time is expected, e.g. 09:30."),
    "json_invalid": N_("The body is not valid JSON."),
    "json_type": N_("The body is not valid JSON."),
    "model_attributes_type": N_("A JSON object is expected."),
    "model_type": N_("A JSON object is expected."),
    "dict_type": N_("A JSON object is expected."),
    "list_type": N_("A list is expected."),
    "too_short": N_("At least {min_length} items are needed."),
    "too_long": N_("At most {max_length} items are allowed."),
    "greater_than_equal": N_("The value must be at least {ge}."),
    "greater_than": N_("The value must be greater than {gt}."),
    "less_than_equal": N_("The value must be at most {le}."),
    "less_than": N_("The value must be less than {lt}."),
}
_GENERIC_VALIDATION_MESSAGE = N_("The value is not valid.")


def _allowed(expected: str) -> str:
    """Pydantic's "'a', 'b' or 'c'" as "a, b, c": the values alone, in no one language."""
    return ", ".join(value.strip("'") for value in re.split(r", | or ", expected))


def _validation_message(kind: str, context: dict[str, Any], language: Language) -> str:
    rule = RULES.get(kind)
    message = rule.message if rule else VALIDATION_MESSAGES.get(kind, _GENERIC_VALIDATION_MESSAGE)
    if "expected" in context:
        context = {**context, "allowed": _allowed(str(context["expected"]))}
    names = {name for _text, name, _spec, _conversion in Formatter().parse(message) if name}
    if not names <= context.keys():
        # A context without the figure this text names: say what is wrong without it.
        return translate(_GENERIC_VALIDATION_MESSAGE, language)
    return translate(message, language, **{name: context[name] for name in names})


def validation_fields(
    errors: Sequence[Mapping[str, Any]], language: Language
) -> list[dict[str, str]]:
    """Pydantic's errors as fields with a stable code and a message in `language`."""
    # Never echo `input`: the body may hold a personal identity code.
    fields = []
    for error in errors:
        kind = str(error.get("type", "value_error"))
        location = [str(part) for part in error.get("loc", ())]
        rule = RULES.get(kind)
        if rule is not None and rule.field is not None:
            location.append(rule.field)
        fields.append(
            {
                "field": ".".join(location),
                "code": kind,
                "message": _validation_message(kind, dict(error.get("ctx") or {}), language),
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
# The pages' answer to an error, where the request was a page's; None: problem+json.
PageAnswer = Callable[[Request, AppError], Response | None]


def install_error_handlers(
    app: FastAPI, record_refusal: RefusalRecorder, page_answer: PageAnswer | None = None
) -> None:
    def answer(request: Request, error: AppError) -> Response:
        page = page_answer(request, error) if page_answer else None
        return page if page is not None else problem_response(request, error)

    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        if exc.audit_outcome:
            await record_refusal(request, exc)
        return answer(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        language = negotiate_language(request.headers.get("accept-language"))
        error = ValidationFailed(extensions={"errors": validation_fields(exc.errors(), language)})
        return answer(request, error)

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
        return answer(request, error)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


class UnexpectedErrorMiddleware:
    """The one path of an unexpected error: logged once, here (the log formatter writes its
    type and frames, never its message, which may quote personal data), and answered with a
    generic 500. It never leaves the app, so the ASGI server never logs it in its own words,
    as it would from Starlette's outermost handler."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def watched(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            log.error("unhandled error", exc_info=error)
            if not answered:
                await problem_response(Request(scope), InternalError())(scope, receive, send)
