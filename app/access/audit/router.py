"""The audit log for auditors: search, a patient's access report, the tamper check. Each
search of the log is itself logged."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.access.audit import repository, service
from app.access.audit.fhir_export import as_fhir
from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.audit.schemas import AccessReport, AuditEventRead, AuditPage, ChainVerification
from app.access.permissions import AuditReader
from app.db import WriteSession
from app.errors import Forbidden, ValidationFailed, problem_responses
from app.kit.clock import utcnow
from app.kit.types import INT64_MAX, LocalDateTime

router = APIRouter(prefix="/audit", tags=["audit"])
# The Client Data Act: the controller answers for at least two years back.
REPORT_PERIOD = timedelta(days=2 * 366)


def _read(events: list[object]) -> list[AuditEventRead]:
    return [AuditEventRead.model_validate(event, from_attributes=True) for event in events]


@router.get("/events", responses=problem_responses(Forbidden, ValidationFailed))
def search_events(
    principal: AuditReader,
    session: WriteSession,
    patient_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Literal["create", "read", "update", "query", "disclose"] | None = None,
    outcome: Literal["success", "not_found", "refused", "conflict"] | None = None,
    start: LocalDateTime | None = None,
    end: LocalDateTime | None = None,
    before_seq: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Search the audit log, newest first (auditors)."""
    events = list(
        repository.search(
            session,
            patient_id=patient_id,
            actor=actor,
            action=action,
            outcome=outcome,
            start=start,
            end=end,
            before_seq=before_seq,
            limit=limit,
        )
    )
    service.record(
        session, actor=principal, action=AuditAction.query, resource_type="AuditLog",
        patient_id=patient_id,
    )  # fmt: skip
    next_before = events[-1].seq if len(events) == limit else None
    return AuditPage(items=_read(list(events)), next_before_seq=next_before)


@router.get(
    "/patients/{patient_id}/access-report", responses=problem_responses(Forbidden, ValidationFailed)
)
def access_report(
    patient_id: uuid.UUID,
    principal: AuditReader,
    session: WriteSession,
    since: LocalDateTime | None = None,
) -> AccessReport:
    """Who has seen or changed the patient's data, when, in which role and organisation, and
    to whom it was disclosed; two years back unless `since` says otherwise (auditors)."""
    start = since or utcnow() - REPORT_PERIOD
    events = list(repository.search(session, patient_id=patient_id, start=start, limit=100000))
    events.reverse()
    service.record(
        session, actor=principal, action=AuditAction.read, resource_type="AccessReport",
        resource_id=patient_id, patient_id=patient_id,
    )  # fmt: skip
    return AccessReport(
        patient_id=patient_id,
        since=start,
        accesses=_read([e for e in events if e.action != AuditAction.disclose]),
        disclosures=_read([e for e in events if e.action == AuditAction.disclose]),
    )


@router.post(
    "/verify", responses=problem_responses(Forbidden), openapi_extra=audited_as(AuditAction.read)
)
def verify_chain(principal: AuditReader, session: WriteSession) -> ChainVerification:
    """Walk the hash chain: intact, or the first broken entry (auditors)."""
    report = service.verify(session)
    return ChainVerification(
        ok=report.ok, checked=report.checked, broken_at=report.broken_at, reason=report.reason
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "AuditEvent lines"},
        **problem_responses(Forbidden, ValidationFailed),
    },
)
def export_events(
    principal: AuditReader,
    session: WriteSession,
    start: LocalDateTime | None = None,
    end: LocalDateTime | None = None,
) -> StreamingResponse:
    """The log as FHIR R4 AuditEvent resources (IHE BALP shape), one per line (auditors)."""
    events = list(repository.search(session, start=start, end=end, limit=1_000_000))
    events.reverse()
    service.record(session, actor=principal, action=AuditAction.query, resource_type="AuditExport")
    lines = (json.dumps(as_fhir(event), separators=(",", ":")) + "\n" for event in events)
    return StreamingResponse(lines, media_type="application/x-ndjson")
