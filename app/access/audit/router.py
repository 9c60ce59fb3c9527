"""The audit log for auditors: search, a patient's access report, the tamper check. Each
search of the log is itself logged."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.access.audit import reports, repository, sealing, service
from app.access.audit.fhir_export import as_fhir
from app.access.audit.models import AuditAction, AuditEvent, AuditOutcome, AuditPurpose
from app.access.audit.refusals import audited_as
from app.access.audit.reports import EntryCursor
from app.access.audit.schemas import (
    AccessReport,
    AuditEventRead,
    ChainVerification,
    ReportedEntry,
    TreeHead,
)
from app.access.permissions import AuditReader
from app.db import WriteSession
from app.errors import Forbidden, ValidationFailed, problem_responses
from app.kit.pagination import Cursor, InvalidCursor, Page, Window, decode_cursor, page_size
from app.kit.types import LocalDateTime

router = APIRouter(prefix="/audit", tags=["audit"])


def _read(events: list[object]) -> list[AuditEventRead]:
    return [AuditEventRead.model_validate(event, from_attributes=True) for event in events]


@router.get("/events", responses=problem_responses(Forbidden, InvalidCursor, ValidationFailed))
def search_events(
    principal: AuditReader,
    session: WriteSession,
    patient_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: AuditAction | None = None,
    outcome: AuditOutcome | None = None,
    purpose: AuditPurpose | None = None,
    start: LocalDateTime | None = None,
    end: LocalDateTime | None = None,
    limit: Annotated[int, page_size(500)] = 100,
    cursor: Cursor = None,
) -> Page[AuditEventRead]:
    """Search the audit log, newest first (auditors)."""
    where = reports.SearchFilter(patient_id, actor, action, outcome, purpose, start, end)
    before = decode_cursor(cursor, EntryCursor).s if cursor else None
    page = Window.of(
        reports.search(session, principal, where, before_seq=before, limit=limit + 1), limit
    )
    return Page[AuditEventRead](
        items=_read(list(page.rows)),
        next_cursor=page.next_cursor(lambda event: EntryCursor(s=event.seq)),
    )


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
    report = reports.access_report(session, principal, patient_id, since)

    def reported(chosen: list[AuditEvent]) -> list[ReportedEntry]:
        return [
            ReportedEntry.model_validate(
                {**AuditEventRead.model_validate(event, from_attributes=True).model_dump(),
                 "proof": asdict(report.proofs[event.seq]) if event.seq in report.proofs
                 else None}
            )
            for event in chosen
        ]  # fmt: skip

    head = report.head
    return AccessReport(
        patient_id=patient_id,
        since=report.since,
        accesses=reported(report.accesses),
        disclosures=reported(report.disclosures),
        tree_head=TreeHead.model_validate(sealing.head_as_json(head)) if head else None,
        public_key=sealing.public_key_bytes().hex(),
    )


@router.post(
    "/verify", responses=problem_responses(Forbidden), openapi_extra=audited_as(AuditAction.read)
)
def verify_chain(principal: AuditReader, session: WriteSession) -> ChainVerification:
    """Check the log against its signed heads: intact, or the first fault; and how many entries
    wait for the sealer longer than they should (auditors)."""
    report = service.verify(session)
    return ChainVerification(
        ok=report.ok,
        checked=report.checked,
        broken_at=report.broken_at,
        reason=report.reason,
        overdue=report.overdue,
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
