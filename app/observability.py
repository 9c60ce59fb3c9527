"""Logs, request ids, metrics and the health endpoints.

Log lines are JSON with the request id and never carry personal data: the access line names the
route template (`/api/v1/referrals/{referral_id}`), not the address with its query string, and
no request or response body is ever logged.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access.audit import repository as audit_repository
from app.db import Database, schema_is_current
from app.jobs import outbox
from app.kit.clock import utcnow
from app.kit.request_context import request_id_var
from app.kit.routes import route_template
from app.statistics import follow as statistics_follow

access_log = logging.getLogger("askel.access")

REQUESTS = Counter(
    "askel_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "askel_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Read from the outbox at each scrape, so they hold whichever process or worker does the work.
OUTBOX_PENDING = Gauge("askel_outbox_pending", "Events waiting to be published", ["aggregate"])
OUTBOX_FAILING = Gauge(
    "askel_outbox_failing", "Waiting events that failed at least once", ["aggregate"]
)
OUTBOX_DEAD = Gauge("askel_outbox_dead_letters", "Events given up on", ["aggregate"])
OUTBOX_LAG = Gauge(
    "askel_outbox_lag_seconds",
    "Age of the oldest waiting event: for `referral`, how far the region's copy lags",
    ["aggregate"],
)

AUDIT_UNSEALED = Gauge("askel_audit_unsealed", "Audit entries waiting for the sealer")
AUDIT_SEALING_LAG = Gauge(
    "askel_audit_sealing_lag_seconds",
    "Age of the oldest audit entry not yet sealed into the log's tree (0: none waits)",
)
STATISTICS_PENDING = Gauge(
    "askel_statistics_facts_pending", "Referrals whose statistics facts wait to be made again"
)
STATISTICS_LAG = Gauge(
    "askel_statistics_facts_lag_seconds",
    "Age of the oldest write the statistics facts do not show yet (0: they show every write)",
)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def _request_id(incoming: str) -> str:
    """An incoming `X-Request-ID` is kept only in the form Askel makes itself, a UUID (written
    as Askel writes it): anything else is free text that would reach the append-only audit
    log, the server log and the answer, an identity code as easily as an id."""
    if _UUID.match(incoming):
        return uuid.UUID(incoming).hex
    return uuid.uuid4().hex


_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({})))
# Answers that turn a caller away: their access lines name the client's address.
REFUSALS = frozenset({401, 403, 404, 405, 429})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD_RECORD_FIELDS and not key.startswith("_")
        )
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            # Where it failed, never what it said: an exception's message (or one it was
            # raised from) may quote personal data or SQL.
            entry["error_type"] = type(error).__name__
            entry["traceback"] = "".join(traceback.format_tb(error.__traceback__))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our own access line replaces uvicorn's, which would log query strings.
    logging.getLogger("uvicorn.access").disabled = True
    # The HTTP client logs every address it calls, queries included: only its problems here.
    logging.getLogger("httpx2").setLevel(max(logging.WARNING, root.level))


class RequestContextMiddleware:
    """Gives every request an id (a safe incoming `X-Request-ID` is kept), times it, counts it
    and writes the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = _request_id(incoming)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            line = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "request_id": request_id,
            }
            if status in REFUSALS:
                # Who was turned away, for the security log; not for every request.
                line["client"] = (scope.get("client") or ("unknown",))[0]
            access_log.info("request", extra=line)
            request_id_var.reset(token)


router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is not ready."}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and its schema is at the newest migration."""
    database: Database = request.app.state.db
    try:
        database.ping()
        current = schema_is_current(database.bind)
    except Exception:
        logging.getLogger(__name__).warning("readiness check failed", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    if not current:
        return JSONResponse({"status": "unavailable", "database": "schema not current"}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics: requests, latency, the outbox (sync lag, failures), how far the
    statistics facts are behind, and the audit log's sealing."""
    database: Database = request.app.state.db
    with database.read_sessions() as session:
        waiting = outbox.backlog(session)
        facts_lag = statistics_follow.lag(session)
        unsealed, oldest_unsealed = audit_repository.unsealed(session)
    now = utcnow()
    STATISTICS_PENDING.set(facts_lag.referrals)
    STATISTICS_LAG.set(facts_lag.seconds(now))
    AUDIT_UNSEALED.set(unsealed)
    AUDIT_SEALING_LAG.set((now - oldest_unsealed).total_seconds() if oldest_unsealed else 0.0)
    for gauge in (OUTBOX_PENDING, OUTBOX_FAILING, OUTBOX_DEAD, OUTBOX_LAG):
        gauge.clear()
    for kind in waiting:
        OUTBOX_PENDING.labels(kind.aggregate_type).set(kind.pending)
        OUTBOX_FAILING.labels(kind.aggregate_type).set(kind.failing)
        OUTBOX_DEAD.labels(kind.aggregate_type).set(kind.dead_lettered)
        oldest = kind.oldest_pending_at
        lag = (now - oldest).total_seconds() if oldest else 0.0
        OUTBOX_LAG.labels(kind.aggregate_type).set(lag)
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)
