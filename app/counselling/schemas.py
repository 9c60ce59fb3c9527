from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from app.kit.clock import today_in_helsinki
from app.kit.types import CalendarDate, LocalDateTime, Number, WholeNumber

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ContactType = Literal["in_person", "phone", "video", "group", "home_visit"]
StageOfChange = Literal["precontemplation", "contemplation", "preparation", "action", "maintenance"]


class FitnessTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Short = Field(description="e.g. UKK-kävelytesti, 6 minuutin kävelytesti")
    value: Number = Field(ge=0, le=100000)
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class VisitFields(BaseModel):
    """A visit's content. Ranges are those a person can have; anything else is a typo."""

    model_config = ConfigDict(extra="forbid")

    visited_on: CalendarDate
    contact_type: ContactType
    duration_minutes: WholeNumber = Field(ge=5, le=480)
    appointment_id: uuid.UUID | None = None
    mvpa_days_per_week: WholeNumber | None = Field(default=None, ge=0, le=7)
    mvpa_minutes_per_day: WholeNumber | None = Field(default=None, ge=0, le=1000)
    strength_days_per_week: WholeNumber | None = Field(default=None, ge=0, le=7)
    sitting_hours_per_day: Number | None = Field(default=None, ge=0, le=24)
    stage_of_change: StageOfChange | None = None
    barriers: Text | None = None
    resources: Text | None = None
    weight_kg: Number | None = Field(default=None, ge=2, le=400)
    waist_cm: Number | None = Field(default=None, ge=30, le=250)
    systolic_mmhg: WholeNumber | None = Field(default=None, ge=60, le=260)
    diastolic_mmhg: WholeNumber | None = Field(default=None, ge=30, le=160)
    fitness_test: FitnessTest | None = None
    note: Text | None = None


class VisitIn(VisitFields):
    @model_validator(mode="after")
    def _plausible(self) -> Self:
        if self.visited_on > today_in_helsinki():
            raise ValueError("visited_on is in the future")
        if (self.mvpa_days_per_week is None) != (self.mvpa_minutes_per_day is None):
            raise ValueError("give both mvpa_days_per_week and mvpa_minutes_per_day, or neither")
        if (self.systolic_mmhg is None) != (self.diastolic_mmhg is None):
            raise ValueError("give both systolic and diastolic blood pressure, or neither")
        if (self.systolic_mmhg or 0) and self.systolic_mmhg <= (self.diastolic_mmhg or 0):
            raise ValueError("systolic pressure must be above diastolic")
        return self

    @property
    def minutes_per_week(self) -> int | None:
        if self.mvpa_days_per_week is None or self.mvpa_minutes_per_day is None:
            return None
        return self.mvpa_days_per_week * self.mvpa_minutes_per_day


class VisitCorrection(VisitIn):
    reason: Text = Field(
        description="Why the record is corrected; kept with the correction.",
        examples=["Kesto kirjattiin väärin."],
    )


class VisitRead(VisitFields):
    model_config = ConfigDict(extra="ignore")

    # As recorded: a date from before the range was bounded is still shown, not a failure.
    visited_on: date

    id: uuid.UUID
    referral_id: uuid.UUID
    counsellor_subject: str
    counsellor_name: str | None
    minutes_per_week: int | None = Field(description="LOINC 82290-8: days x minutes per day.")
    corrected: bool = Field(description="Superseded by a correction; kept, never deleted.")
    supersedes_id: uuid.UUID | None
    correction_reason: str | None
    created_at: LocalDateTime


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    what: Short = Field(examples=["Reipas kävely"])
    measure: Literal["minutes_per_week", "strength_days_per_week", "steps_per_day", "other"]
    target: Number = Field(ge=0, le=100000)
    target_date: CalendarDate
    achieved: StrictBool = False


class PlannedActivity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Short = Field(description="e.g. kävely, vesijumppa, kuntosali", examples=["kävely"])
    frequency_per_week: WholeNumber = Field(ge=1, le=21)
    minutes: WholeNumber = Field(ge=5, le=600)
    intensity: Literal["light", "moderate", "vigorous"]
    where: Short | None = Field(default=None, description="e.g. a municipal group or a club")


class PlanIn(BaseModel):
    """The activity plan as agreed with the patient."""

    model_config = ConfigDict(extra="forbid")

    goals: list[Goal] = Field(min_length=1, max_length=20)
    activities: list[PlannedActivity] = Field(min_length=1, max_length=30)
    support_agreed: Text | None = None
    follow_up_months: list[Annotated[WholeNumber, Field(ge=1, le=36)]] = Field(
        default_factory=lambda: [1, 3, 6, 12], max_length=12
    )
    agreed_with_patient: Literal[True] = Field(
        description="The plan is made jointly: it is saved only as agreed with the patient."
    )
    agreed_on: CalendarDate
    agreed_how: Literal["in_person", "phone", "video"]
    change_note: Text | None = None

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if any(not 1 <= months <= 36 for months in self.follow_up_months):
            raise ValueError("follow-ups are 1 to 36 months ahead")
        if self.agreed_on > today_in_helsinki():
            raise ValueError("agreed_on is in the future")
        return self


class PlanRead(BaseModel):
    referral_id: uuid.UUID
    version: int
    goals: list[Goal]
    activities: list[PlannedActivity]
    support_agreed: str | None
    follow_up_months: list[int]
    agreed_with_patient: bool = True
    agreed_on: date
    agreed_how: str
    author_subject: str
    author_name: str | None
    change_note: str | None
    created_at: LocalDateTime


class Assessment(BaseModel):
    visited_on: date
    minutes_per_week: int | None
    strength_days_per_week: int | None


class Outcome(BaseModel):
    """What came of the counselling, for the referrer: computed from the recorded visits."""

    referral_id: uuid.UUID
    visits_held: int
    first_assessment: Assessment | None
    last_assessment: Assessment | None
    minutes_per_week_change: int | None
    strength_days_change: int | None
    goals: int
    goals_met: int


class FollowUpBooking(BaseModel):
    months: int
    target_date: date
    appointment_id: uuid.UUID | None = Field(description="None: no free slot near the date.")
    start_at: LocalDateTime | None
