"""Refused attempts are audited too, each in its own short transaction: the request's own
transaction has been rolled back by the time the refusal is known to be final."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.access.audit import service
from app.access.audit.models import AuditAction, AuditOutcome
from app.access.principal import Principal
from app.db import Database
from app.errors import AppError
from app.kit.routes import route_template

_ACTION_BY_METHOD = {
    "GET": AuditAction.read,
    "HEAD": AuditAction.read,
    "POST": AuditAction.create,
    "PUT": AuditAction.update,
    "PATCH": AuditAction.update,
}
# Where a route declares what it does, in its OpenAPI operation.
_AUDIT_ACTION = "x-audit-action"


def audited_as(action: AuditAction) -> dict[str, Any]:
    """`openapi_extra` of a route whose method does not say what it does (a POST that
    transitions, looks up or revokes): its refusals are recorded as that action."""
    return {_AUDIT_ACTION: action.value}


def _action(request: Request) -> AuditAction:
    route = request.scope.get("route")
    declared = getattr(route, "openapi_extra", None) or {}
    if _AUDIT_ACTION in declared:
        return AuditAction(declared[_AUDIT_ACTION])
    return _ACTION_BY_METHOD.get(request.method, AuditAction.read)


async def record_refusal(request: Request, error: AppError) -> None:
    """A refused request in the audit log, in a transaction of its own: the request's own has
    been rolled back."""
    database: Database = request.app.state.db

    def write() -> None:
        with database.write_sessions() as session, session.begin():
            record_refused(session, request, error)

    await run_in_threadpool(write)


def record_refused(
    session: Session, request: Request, error: AppError, action: AuditAction | None = None
) -> None:
    """The refusal in `session`: also for a page that shows a refused change on its form and
    commits the rest of its request (the action then named by the page)."""
    # The account the caller was matched to; or, refused for its account, the subject and
    # issuer its validly signed token claimed.
    principal: Principal | None = getattr(request.state, "principal", None) or getattr(
        request.state, "claimed_principal", None
    )
    if principal is None:
        return  # nobody authenticated: nothing to attribute, the access log has the attempt
    refusal = error.refusal
    service.record(
        session,
        actor=principal,
        action=action or _action(request),
        resource_type=refusal.resource_type or route_template(request.scope),
        resource_id=refusal.resource_id,
        patient_id=uuid.UUID(refusal.patient_id) if refusal.patient_id else None,
        outcome=AuditOutcome(error.audit_outcome or AuditOutcome.refused),
    )
