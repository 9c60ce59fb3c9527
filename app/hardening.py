"""What every request must pass before the application reads it, and what every response carries.

Oversized headers (431) and bodies (413) are refused before anything is parsed; a JSON body
nested deeper than any of our schemas is refused (400) before the parser recurses into it, and
a NUL character anywhere (422) before it reaches a database that cannot store it; every
response carries the security headers below. The body is read at most to its limit, so a
client cannot make a process hold more than that per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError, problem_response
from app.i18n import N_


class HeadersTooLarge(AppError):
    status = 431
    code = "headers_too_large"
    title = N_("Request headers too large")
    detail = N_("The request's headers are larger than this service accepts.")


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = N_("Request too large")
    detail = N_("The request body is larger than {limit} bytes.")


class NulCharacter(AppError):
    # Well-formed JSON (or a well-formed address) whose content no field accepts.
    status = 422
    code = "nul_character"
    title = N_("NUL character in the request")
    detail = N_("The request contains a NUL character, which no field accepts.")


class JsonTooDeep(AppError):
    status = 400
    code = "json_too_deep"
    title = N_("JSON nested too deeply")
    detail = N_("The JSON body is nested deeper than {limit} levels.")


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32


# A JSON escape for NUL: \u0000 whose backslash is not itself escaped.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(scope: Scope, body: bytes) -> bool:
    """Whether the address, the query or the body carries a NUL character: no text field
    accepts one, and PostgreSQL cannot store one."""
    query: bytes = scope.get("query_string", b"")
    return (
        "\x00" in scope["path"]
        or b"%00" in query
        or b"\x00" in query
        or b"\x00" in body
        or _JSON_NUL.search(body) is not None
    )


# Strings as a whole (they may hold brackets), or one bracket: enough to measure nesting.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENING = frozenset(b"[{")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body` (its syntax is the parser's job)."""
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(body):
        first = token.group()[0]
        if first in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif first != ord('"'):
            depth -= 1
    return deepest


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";")[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


class _TooLarge(Exception):
    pass


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = self._check_headers(scope)
        if error is not None:
            await problem_response(Request(scope), error)(scope, receive, send)
            return
        try:
            body = await self._read_body(receive)
        except _TooLarge:
            error = PayloadTooLarge(limit=self.limits.max_body_bytes)
            await problem_response(Request(scope), error)(scope, receive, send)
            return
        if has_nul(scope, body):
            await problem_response(Request(scope), NulCharacter())(scope, receive, send)
            return
        if body and _is_json(scope) and json_depth(body) > self.limits.max_json_depth:
            error = JsonTooDeep(limit=self.limits.max_json_depth)
            await problem_response(Request(scope), error)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_headers(self, scope: Scope) -> AppError | None:
        size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if size > self.limits.max_header_bytes:
            return HeadersTooLarge()
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    return AppError()
                if int(value) > self.limits.max_body_bytes:
                    return PayloadTooLarge(limit=self.limits.max_body_bytes)
        return None

    async def _read_body(self, receive: Receive) -> bytes:
        """The whole body, but never more than the limit: a body sent without a length, or
        longer than it said, is cut off there."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limits.max_body_bytes:
                raise _TooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body: wait for the client to disconnect, as the server's receive would.
        return await receive()

    return replay


# The interactive documentation runs Askel's own copy of Swagger UI: scripts and styles from
# the service itself and never inline, its icons as data: URIs (an image answer of Try it out
# as a blob:), its requests to the API only.
_DOCS = "/docs"
_DOCS_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"  # noqa: E501
_API_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"  # noqa: E501
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class SecurityHeadersMiddleware:
    """Headers every response carries; patient data is never stored in a cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope["path"] == _DOCS or scope["path"].startswith(_DOCS + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _SECURITY_HEADERS if h[0] not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if b"content-security-policy" not in present:
                    policy = _DOCS_POLICY if is_docs else _API_POLICY
                    headers.append((b"content-security-policy", policy.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
