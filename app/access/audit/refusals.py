"""Refused attempts are audited too, each in its own short transaction: the request's own
transaction has been rolled back by the time the refusal is known to be final."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
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
    # The account the caller was matched to; or, refused for its account, the subject and
    # issuer its validly signed token claimed.
    principal: Principal | None = getattr(request.state, "principal", None) or getattr(
        request.state, "claimed_principal", None
    )
    if principal is None:
        return  # nobody authenticated: nothing to attribute, the access log has the attempt
    database: Database = request.app.state.db
    refusal = error.refusal
    patient_id = uuid.UUID(refusal.patient_id) if refusal.patient_id else None
    action = _action(request)
    outcome = AuditOutcome(error.audit_outcome or AuditOutcome.refused)

    def write() -> None:
        with database.write_sessions() as session, session.begin():
            service.record(
                session,
                actor=principal,
                action=action,
                resource_type=refusal.resource_type or route_template(request.scope),
                resource_id=refusal.resource_id,
                patient_id=patient_id,
                outcome=outcome,
            )

    await run_in_threadpool(write)
