from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.classifications.contact_modes import ContactMode
from app.errors import PERIOD_REVERSED, Rule
from app.i18n import N_
from app.kit.types import CalendarDate, LocalDateTime, WholeNumber
from app.patients.schemas import LanguageCode

VisitType = Literal["first_visit", "follow_up", "group"]
Mode = ContactMode
Location = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


TIMES_REVERSED = Rule(
    "times_reversed", N_("The start time must be before the end time."), field="end_time"
)
TIMES_HALF_GIVEN = Rule(
    "times_half_given", N_("Give both the start and the end time, or neither."), field="end_time"
)
EXTRA_TIME_INCOMPLETE = Rule(
    "extra_time_incomplete",
    N_("An extra time needs its times, location, modes, visit types and languages."),
)


class _Times(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        start, end = getattr(self, "start_time", None), getattr(self, "end_time", None)
        if start is not None and end is not None and start >= end:
            raise TIMES_REVERSED.broken()
        if (start is None) != (end is None):
            raise TIMES_HALF_GIVEN.broken()
        return self


class RuleIn(_Times):
    weekday: WholeNumber = Field(ge=0, le=6, description="Monday 0 ... Sunday 6.")
    start_time: time = Field(description="Helsinki local time.", examples=["09:00"])
    end_time: time = Field(examples=["12:00"])
    location: Location = Field(examples=["Laihian liikuntahalli"])
    modes: list[Mode] = Field(min_length=1)
    visit_types: list[VisitType] = Field(min_length=1)
    languages: list[LanguageCode] = Field(min_length=1, examples=[["fi", "sv"]])
    group_capacity: WholeNumber = Field(default=8, ge=2, le=50)
    valid_from: CalendarDate
    valid_until: CalendarDate | None = None

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise PERIOD_REVERSED.broken()
        return self


class ExceptionIn(_Times):
    kind: Literal["absence", "extra"]
    on_date: CalendarDate
    start_time: time | None = Field(default=None, description="An absence without times: all day.")
    end_time: time | None = None
    location: Location | None = None
    modes: list[Mode] = Field(default_factory=list)
    visit_types: list[VisitType] = Field(default_factory=list)
    languages: list[LanguageCode] = Field(default_factory=list)
    group_capacity: WholeNumber = Field(default=8, ge=2, le=50)
    note: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _extras_are_complete(self) -> Self:
        if self.kind == "extra" and not (
            self.start_time and self.location and self.modes and self.visit_types and self.languages
        ):
            raise EXTRA_TIME_INCOMPLETE.broken()
        return self


class AvailabilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(max_length=100)
    exceptions: list[ExceptionIn] = Field(default_factory=list, max_length=500)


class Conflict(BaseModel):
    appointment_id: uuid.UUID
    start_at: LocalDateTime
    end_at: LocalDateTime


class AvailabilityOut(BaseModel):
    counsellor_id: uuid.UUID
    rules: list[RuleIn]
    exceptions: list[ExceptionIn]
    slots_created: int = 0
    slots_withdrawn: int = 0
    conflicts: list[Conflict] = Field(
        default_factory=list,
        description="Booked appointments the new rules no longer cover; they stay booked.",
    )


class SlotRead(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    counsellor_id: uuid.UUID
    counsellor_name: str
    start_at: LocalDateTime
    end_at: LocalDateTime
    visit_type: VisitType
    capacity: int
    places_left: int
    location: str
    modes: list[str]
    languages: list[str]


class HoldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    referral_id: uuid.UUID | None = Field(
        default=None,
        description="The referral the slot is held for. Clinicians hold slots only for a "
        "referral sent to the slot's service; the service's counsellors may leave it out.",
    )


class HoldRead(BaseModel):
    hold_id: uuid.UUID
    slot_id: uuid.UUID
    expires_at: LocalDateTime


class AppointmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID
    referral_id: uuid.UUID
    hold_id: uuid.UUID | None = None
    mode: Mode | None = Field(default=None, description="One of the slot's modes; default first.")


class CancelAppointment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancelled_by: Literal["patient", "provider"]
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ] = Field(examples=["Potilas on sairaana."])


class Reschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID
    hold_id: uuid.UUID | None = None
    mode: Mode | None = None


class AppointmentRead(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    patient_id: uuid.UUID
    slot_id: uuid.UUID
    counsellor_id: uuid.UUID
    service_id: uuid.UUID
    start_at: LocalDateTime
    end_at: LocalDateTime
    visit_type: VisitType
    mode: str
    location: str
    status: Literal["booked", "cancelled", "attended", "no_show"]
    cancelled_by: Literal["patient", "provider"] | None
    late_cancellation: bool | None
    rescheduled_to: uuid.UUID | None
    needs_marking: bool = Field(description="Past, and not yet marked attended or no-show.")
