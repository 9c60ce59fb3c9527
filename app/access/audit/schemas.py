from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

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


class InclusionProof(BaseModel):
    """That the entry is in the log's tree under `tree_head` (RFC 9162 §2.1.3): hash `leaf`
    as a leaf, fold `path` into it, and compare with the head's root."""

    position: int = Field(description="The entry's leaf, counted from 0.")
    leaf: str = Field(description="The entry as its leaf hashes it (UTF-8 JSON).")
    path: list[str] = Field(description="The sibling hashes from the leaf up, in hex.")


class ReportedEntry(AuditEventRead):
    proof: InclusionProof | None = Field(
        description="None while the entry waits to be sealed (seconds after it was written)."
    )


class TreeHead(BaseModel):
    """A signed tree head: the log's size and root at `signed_at`, signed with Ed25519 over
    `askel audit tree head v1\\n{size}\\n{root}\\n{signed_at}\\n`."""

    size: int
    root: str
    signed_at: str = Field(description="The time signed, exactly as the signature covers it.")
    key_id: str
    signature: str


class AccessReport(BaseModel):
    """Who has seen or changed a patient's data, and to whom it was disclosed (Client Data Act
    703/2023, § 11), over the period asked for; each entry with its proof of being in the log."""

    patient_id: uuid.UUID
    since: LocalDateTime
    accesses: list[ReportedEntry]
    disclosures: list[ReportedEntry]
    tree_head: TreeHead | None = Field(description="The newest signed head the proofs are for.")
    public_key: str = Field(description="The Ed25519 key the log signs its heads with, in hex.")


class ChainVerification(BaseModel):
    ok: bool
    checked: int
    broken_at: int | None
    reason: str | None
    overdue: int = Field(
        default=0, description="Entries waiting for the sealer longer than the sealing delay."
    )
