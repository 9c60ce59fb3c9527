from __future__ import annotations

import uuid

from pydantic import BaseModel

from app.kit.types import LocalDateTime


class AuditEventRead(BaseModel):
    seq: int
    occurred_at: LocalDateTime
    request_id: str | None
    actor: str | None
    actor_roles: str | None
    actor_organisation: str | None
    patient_id: uuid.UUID | None
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    purpose: str | None
    recipient: str | None


class AccessReport(BaseModel):
    """Who has seen or changed a patient's data, and to whom it was disclosed (Client Data Act
    703/2023, § 11), over the period asked for."""

    patient_id: uuid.UUID
    since: LocalDateTime
    accesses: list[AuditEventRead]
    disclosures: list[AuditEventRead]


class ChainVerification(BaseModel):
    ok: bool
    checked: int
    broken_at: int | None
    reason: str | None
