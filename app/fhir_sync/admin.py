"""What the poller could not take from the region's server, for the region's access
administrators: which Task, why (an error code and, for invalid FHIR, the place at fault), how
often and when. Fixing it is the region's: a changed Task is polled again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.access.permissions import AccessAdmin, region_only
from app.db import WriteSession
from app.errors import Forbidden, ValidationFailed, problem_responses
from app.fhir_sync import repository
from app.kit.pagination import (
    Cursor,
    InvalidCursor,
    Page,
    TimeAndId,
    Window,
    after_time_and_id,
    page_size,
)
from app.kit.types import INT64_MAX, LocalDateTime

router = APIRouter(prefix="/admin/fhir", tags=["administration"])
RefusalId = Annotated[int, Field(ge=1, le=INT64_MAX)]


class Refusal(BaseModel):
    id: int
    task_reference: str = Field(description="The region's Task, as `Task/<id>` on its server.")
    code: str = Field(description="The stable error code, as the API would answer it.")
    reason: str | None = Field(description="For invalid FHIR: the place at fault, never a value.")
    times: int
    first_refused_at: LocalDateTime
    last_refused_at: LocalDateTime


@router.get("/refusals", responses=problem_responses(Forbidden, InvalidCursor, ValidationFailed))
def list_refusals(
    principal: AccessAdmin,
    session: WriteSession,
    limit: Annotated[int, page_size(500)] = 100,
    cursor: Cursor = None,
) -> Page[Refusal]:
    """Region Tasks that did not become referrals, last refused first (the region's access
    admins)."""
    region_only(principal, "FhirRefusal")
    after = after_time_and_id(cursor, RefusalId)
    page = Window.of(repository.refusals(session, limit + 1, after), limit)
    return Page[Refusal](
        items=[Refusal.model_validate(r, from_attributes=True) for r in page.rows],
        next_cursor=page.next_cursor(
            lambda r: TimeAndId[RefusalId].model_validate({"t": r.last_refused_at, "i": r.id})
        ),
    )
