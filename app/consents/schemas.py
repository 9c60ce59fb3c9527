from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.errors import PERIOD_REVERSED, Rule
from app.i18n import N_
from app.kit.clock import today_in_helsinki
from app.kit.types import CalendarDate, LocalDateTime

Scope = Literal["research"]
Decision = Literal["given", "withdrawn"]
Method = Literal["written", "in_person", "electronic"]
Study = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
    ),
    Field(
        description="The study's identifier, e.g. its research permit's record number.",
        examples=["THL-2026-114"],
    ),
]


CONSENT_IN_FUTURE = Rule(
    "consent_in_future",
    N_("A consent cannot be decided on a day still to come."),
    field="decided_on",
)


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope = Field(description="The use consented to; care and counselling need none.")
    study: Study
    decision: Decision
    decided_on: CalendarDate = Field(description="The day the client gave or withdrew the consent.")
    method: Method

    @model_validator(mode="after")
    def _not_in_the_future(self) -> Self:
        if self.decided_on > today_in_helsinki():
            raise CONSENT_IN_FUTURE.broken()
        return self


class ConsentRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    scope: Scope
    study: str
    decision: Decision
    decided_on: date
    method: Method
    recorded_by: str
    recorded_by_name: str | None
    recorded_by_organisation: str
    created_at: LocalDateTime = Field(description="When it was recorded.")


class ConsentInForce(BaseModel):
    scope: str
    study: str
    since: date


class PatientConsents(BaseModel):
    in_force: list[ConsentInForce] = Field(description="The consents that hold today.")
    decisions: list[ConsentRead] = Field(description="Every decision recorded, newest first.")


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    study: Study
    visited_from: CalendarDate
    visited_to: CalendarDate

    @model_validator(mode="after")
    def _a_period(self) -> Self:
        if self.visited_from > self.visited_to:
            raise PERIOD_REVERSED.broken()
        return self


class ExtractRow(BaseModel):
    """One counselling visit, without anything that names the client."""

    pseudonym: str = Field(description="The same client has the same pseudonym in one study only.")
    municipality_code: str | None = Field(
        description="The home municipality; null for a client with a security prohibition."
    )
    age_band: str = Field(description="0-6, 7-12, 13-17, 18-29, 30-64, 65-74 or 75+, at the visit")
    sex: str = Field(description="As recorded: female, male, other or unknown")
    language: str
    visit_month: str = Field(description="YYYY-MM")
    contact_type: str
    duration_minutes: int
    minutes_per_week: int | None
    strength_days_per_week: int | None
    sitting_hours_per_day: float | None
    stage_of_change: str | None


class Extract(BaseModel):
    study: str
    consents_in_force_on: date
    patients: int
    rows: list[ExtractRow]
