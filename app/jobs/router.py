"""The outbox's dead letters, for the region's access administrators: what could not be
published to the region (or sent to patients), why, and a replay once the cause is fixed."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import AccessAdmin, region_only
from app.db import WriteSession
from app.errors import Forbidden, ValidationFailed, problem_responses
from app.jobs import outbox
from app.kit.clock import utcnow
from app.kit.pagination import (
    Cursor,
    InvalidCursor,
    Page,
    TimeAndId,
    Window,
    after_time_and_id,
    page_size,
)
from app.kit.types import INT64_MAX, JSON_INTEGER_MAX, LocalDateTime, WholeNumber

router = APIRouter(prefix="/admin/outbox", tags=["administration"])
EventId = Annotated[int, Field(ge=1, le=INT64_MAX)]


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

    event_ids: list[Annotated[WholeNumber, Field(ge=1, le=JSON_INTEGER_MAX)]] = Field(
        default_factory=list, max_length=1000, description="Empty: every dead letter."
    )


class Replayed(BaseModel):
    replayed: int


@router.get(
    "/dead-letters", responses=problem_responses(Forbidden, InvalidCursor, ValidationFailed)
)
def list_dead_letters(
    principal: AccessAdmin,
    session: WriteSession,
    limit: Annotated[int, page_size(500)] = 100,
    cursor: Cursor = None,
) -> Page[DeadLetter]:
    """Events given up on, newest first, with the last error (the region's access admins)."""
    region_only(principal, "Outbox")
    after = after_time_and_id(cursor, EventId)
    page = Window.of(outbox.dead_letters(session, limit + 1, after), limit)
    return Page[DeadLetter](
        items=[DeadLetter.model_validate(e, from_attributes=True) for e in page.rows],
        next_cursor=page.next_cursor(
            lambda e: TimeAndId[EventId].model_validate({"t": e.dead_lettered_at, "i": e.id})
        ),
    )


@router.post(
    "/dead-letters/replay",
    responses=problem_responses(Forbidden, ValidationFailed),
    openapi_extra=audited_as(AuditAction.update),
)
def replay_dead_letters(body: Replay, principal: AccessAdmin, session: WriteSession) -> Replayed:
    """Send dead letters again from the start (the region's access admins)."""
    region_only(principal, "Outbox")
    return Replayed(replayed=outbox.replay_dead_letters(session, utcnow(), body.event_ids or None))
