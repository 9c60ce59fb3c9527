"""The outbox's dead letters, for the region's access administrators: what could not be
published to the region (or sent to patients), why, and a replay once the cause is fixed."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import AccessAdmin
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import Forbidden, RefusalContext, ValidationFailed, problem_responses
from app.jobs import outbox
from app.kit.clock import utcnow
from app.kit.types import LocalDateTime, WholeNumber
from app.organisations.models import OrganisationKind

router = APIRouter(prefix="/admin/outbox", tags=["administration"])


class DeadLetter(BaseModel):
    id: int
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    attempts: int
    last_error: str | None
    created_at: LocalDateTime
    dead_lettered_at: LocalDateTime


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_ids: list[WholeNumber] = Field(default_factory=list, max_length=1000,
                                 description="Empty: every dead letter.")  # fmt: skip


class Replayed(BaseModel):
    replayed: int


def _region_admin(principal: Principal) -> None:
    if principal.organisation_kind != OrganisationKind.region:
        raise Forbidden(refusal=RefusalContext("Outbox"))


@router.get("/dead-letters", responses=problem_responses(Forbidden, ValidationFailed))
def list_dead_letters(
    principal: AccessAdmin,
    session: WriteSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadLetter]:
    """Events given up on, newest first, with the last error (the region's access admins)."""
    _region_admin(principal)
    return [
        DeadLetter.model_validate(e, from_attributes=True)
        for e in outbox.dead_letters(session, limit)
    ]


@router.post(
    "/dead-letters/replay",
    responses=problem_responses(Forbidden, ValidationFailed),
    openapi_extra=audited_as(AuditAction.update),
)
def replay_dead_letters(body: Replay, principal: AccessAdmin, session: WriteSession) -> Replayed:
    """Send dead letters again from the start (the region's access admins)."""
    _region_admin(principal)
    return Replayed(replayed=outbox.replay_dead_letters(session, utcnow(), body.event_ids or None))
