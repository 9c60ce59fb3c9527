from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.errors import PERIOD_REVERSED, Rule
from app.i18n import N_
from app.kit.types import CalendarDate, LocalDateTime


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    service_id: uuid.UUID
    valid_from: CalendarDate
    valid_until: CalendarDate

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.valid_until < self.valid_from:
            raise PERIOD_REVERSED.broken()
        return self


class GrantRevoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ] = Field(examples=["Siirtyi muihin tehtäviin."])


class GrantRead(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    username: str
    service_id: uuid.UUID
    valid_from: date
    valid_until: date
    granted_by: str
    attested_by: str | None
    attested_at: LocalDateTime | None
    revoked_by: str | None
    revoked_at: LocalDateTime | None
    revoke_reason: str | None
    last_used_on: date | None
    recertified_by: str | None
    recertified_on: date | None
    effective: bool


class AccessReview(BaseModel):
    """What an access admin should look at (within their scope)."""

    unused: list[GrantRead]
    expiring: list[GrantRead]
    unattested: list[GrantRead]
    attested_by_non_admin: list[GrantRead]
    counsellors_without_grant: list[str]


NOTHING_DECIDED = Rule("nothing_decided", N_("Name at least one grant to confirm or revoke."))
CONFIRMED_AND_REVOKED = Rule(
    "confirmed_and_revoked", N_("A grant cannot be both confirmed and revoked."), field="revoke"
)
REVOKING_WITHOUT_REASON = Rule(
    "revoking_without_reason", N_("Revoking a grant needs a reason."), field="reason"
)


class Recertification(BaseModel):
    """One access review's decisions, applied together or not at all."""

    model_config = ConfigDict(extra="forbid")

    confirm: list[uuid.UUID] = Field(
        default_factory=list, max_length=500, examples=[["3fa85f64-5717-4562-b3fc-2c963f66afa6"]]
    )
    revoke: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""

    @model_validator(mode="after")
    def _decided(self) -> Self:
        if not self.confirm and not self.revoke:
            raise NOTHING_DECIDED.broken()
        if set(self.confirm) & set(self.revoke):
            raise CONFIRMED_AND_REVOKED.broken()
        if self.revoke and not self.reason:
            raise REVOKING_WITHOUT_REASON.broken()
        return self


class RecertificationResult(BaseModel):
    confirmed: int
    revoked: int
