from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from app.classifications.contact_modes import ContactMode, OneToOneMode
from app.counselling import recommendation
from app.errors import Rule
from app.i18n import N_, Language
from app.kit.clock import today_in_helsinki
from app.kit.types import CalendarDate, LocalDateTime, Number, WholeNumber

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ContactType = ContactMode
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
    guardian_present: StrictBool = Field(
        default=False, description="A guardian of the (minor) patient took part in the visit."
    )
    family_visit: StrictBool = Field(
        default=False,
        description="The family took part: the visit counts as a family visit.",
    )


MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY

VISIT_IN_FUTURE = Rule(
    "visit_in_future", N_("A visit cannot be dated in the future."), field="visited_on"
)
ACTIVITY_HALF_GIVEN = Rule(
    "activity_half_given",
    N_("Give both the days a week and the minutes a day of activity, or neither."),
    field="mvpa_minutes_per_day",
)
ACTIVITY_DAYS_AND_MINUTES_DISAGREE = Rule(
    "activity_days_and_minutes_disagree",
    N_("Days of activity and minutes a day are either both zero or both above zero."),
    field="mvpa_minutes_per_day",
)
DAY_OVERFULL = Rule(
    "day_overfull",
    N_("Sitting and activity together cannot take more than 24 hours a day."),
    field="sitting_hours_per_day",
)
PRESSURE_HALF_GIVEN = Rule(
    "blood_pressure_half_given",
    N_("Give both the systolic and the diastolic pressure, or neither."),
    field="diastolic_mmhg",
)
SYSTOLIC_NOT_ABOVE_DIASTOLIC = Rule(
    "systolic_not_above_diastolic",
    N_("The systolic pressure must be higher than the diastolic pressure."),
    field="systolic_mmhg",
)


class VisitIn(VisitFields):
    @model_validator(mode="after")
    def _plausible(self) -> Self:
        if self.visited_on > today_in_helsinki():
            raise VISIT_IN_FUTURE.broken()
        days, minutes = self.mvpa_days_per_week, self.mvpa_minutes_per_day
        if (days is None) != (minutes is None):
            raise ACTIVITY_HALF_GIVEN.broken()
        if days is not None and minutes is not None and (days == 0) != (minutes == 0):
            raise ACTIVITY_DAYS_AND_MINUTES_DISAGREE.broken()
        sitting = round((self.sitting_hours_per_day or 0) * 60)
        if sitting + (minutes or 0) > MINUTES_A_DAY:
            raise DAY_OVERFULL.broken()
        if (self.systolic_mmhg is None) != (self.diastolic_mmhg is None):
            raise PRESSURE_HALF_GIVEN.broken()
        if (self.systolic_mmhg or 0) and self.systolic_mmhg <= (self.diastolic_mmhg or 0):
            raise SYSTOLIC_NOT_ABOVE_DIASTOLIC.broken()
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


class ThlCode(BaseModel):
    system: str = Field(description="The code system, as `urn:oid:` and THL's OID.")
    code: str
    display: str = Field(description="The code's name in Finnish, as THL publishes it.")


class VisitClassifications(BaseModel):
    """The codes THL's outpatient register (Avohilmo) reports the visit with (where each was
    checked: `app.classifications.codes`)."""

    contact_type: ThlCode = Field(description="Yhteystapa, from the contact type.")
    service_class: ThlCode = Field(description="Palvelumuoto.")
    procedure: ThlCode = Field(description="The SPAT procedure: physical-activity counselling.")
    nature: ThlCode = Field(description="Käynnin luonne: health care (promotion), TH.")
    first_visit: bool = Field(
        description="Ensikäynti: the referral's first counselling visit, not a follow-up."
    )
    occupation: ThlCode | None = Field(
        description="Ammattiluokitus of the counsellor's profession; none if unknown."
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
    thl: VisitClassifications | None = Field(
        default=None,
        description="THL's classifications of a visit that stands; none for a corrected one.",
    )


# What a goal's target can be at most: what a week holds, the days of a week.
GOAL_CEILINGS = {"minutes_per_week": MINUTES_A_WEEK, "strength_days_per_week": 7}
GOAL_BEYOND_A_WEEK = Rule(
    "goal_beyond_a_week",
    N_("The goal's target is more than a week can hold (at most {ceiling})."),
    field="target",
)


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    what: Short = Field(examples=["Reipas kävely"])
    measure: Literal["minutes_per_week", "strength_days_per_week", "steps_per_day", "other"]
    target: Number = Field(ge=0, le=100000)
    target_date: CalendarDate
    achieved: StrictBool = False

    @model_validator(mode="after")
    def _within_a_week(self) -> Self:
        ceiling = GOAL_CEILINGS.get(self.measure)
        if ceiling is not None and self.target > ceiling:
            raise GOAL_BEYOND_A_WEEK.broken(ceiling=ceiling)
        return self


SESSIONS_BEYOND_A_DAY = Rule(
    "sessions_beyond_a_day",
    N_("The activity's sessions take more than 24 hours on some day of the week."),
    field="minutes",
)


class PlannedActivity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Short = Field(description="e.g. kävely, vesijumppa, kuntosali", examples=["kävely"])
    frequency_per_week: WholeNumber = Field(ge=1, le=21)
    minutes: WholeNumber = Field(ge=5, le=600)
    intensity: Literal["light", "moderate", "vigorous"]
    where: Short | None = Field(default=None, description="e.g. a municipal group or a club")

    @model_validator(mode="after")
    def _within_a_day(self) -> Self:
        # Sessions spread over the week as evenly as they can: the busiest day has this many.
        busiest_day = -(-self.frequency_per_week // 7)
        if busiest_day * self.minutes > MINUTES_A_DAY:
            raise SESSIONS_BEYOND_A_DAY.broken()
        return self


FOLLOW_UP_OUT_OF_RANGE = Rule(
    "follow_up_out_of_range",
    N_("Follow-ups are 1 to 36 months ahead."),
    field="follow_up_months",
)
PLAN_IN_FUTURE = Rule(
    "plan_in_future", N_("A plan cannot be agreed on a day still to come."), field="agreed_on"
)
PLAN_BEYOND_A_WEEK = Rule(
    "plan_beyond_a_week",
    N_("The planned activities take more time than a week has."),
    field="activities",
)
LEVEL_BEYOND_A_WEEK = Rule(
    "activity_level_beyond_a_week",
    N_("Moderate and vigorous minutes together cannot take more time than a week has."),
    field="vigorous_minutes_per_week",
)


class ActivityLevel(BaseModel):
    """The patient's weekly activity as it is when the plan is agreed, in the terms of the
    national recommendation (UKK Institute 2019); each part may be left unrecorded."""

    moderate_minutes_per_week: WholeNumber | None = Field(
        default=None, ge=0, le=MINUTES_A_WEEK, description="Moderate aerobic minutes a week."
    )
    vigorous_minutes_per_week: WholeNumber | None = Field(
        default=None, ge=0, le=MINUTES_A_WEEK, description="Vigorous aerobic minutes a week."
    )
    strength_days_per_week: WholeNumber | None = Field(
        default=None, ge=0, le=7, description="Days a week of muscle strengthening and balance."
    )
    sitting_hours_per_day: Number | None = Field(
        default=None, ge=0, le=24, description="Hours of sitting a day."
    )
    sitting_break_goal: Short | None = Field(
        default=None, description="How prolonged sitting is to be broken up."
    )


class Standing(BaseModel):
    """Where the recorded level stands against the recommendation: moderate-equivalent minutes
    (moderate + 2 x vigorous) against 150 a week, strength days against 2 a week."""

    moderate_equivalent_minutes: int | None
    aerobic_recommendation_met: bool | None
    aerobic_minutes_short: int | None
    strength_days_per_week: int | None
    strength_recommendation_met: bool | None
    strength_days_short: int | None
    summary: list[str] = Field(description="The standing in words, in the response's language.")


class PlanIn(ActivityLevel):
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
    agreed_how: OneToOneMode
    change_note: Text | None = None

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if any(not 1 <= months <= 36 for months in self.follow_up_months):
            raise FOLLOW_UP_OUT_OF_RANGE.broken()
        if self.agreed_on > today_in_helsinki():
            raise PLAN_IN_FUTURE.broken()
        weekly = sum(a.frequency_per_week * a.minutes for a in self.activities)
        if weekly > MINUTES_A_WEEK:
            raise PLAN_BEYOND_A_WEEK.broken()
        level = (self.moderate_minutes_per_week or 0) + (self.vigorous_minutes_per_week or 0)
        if level > MINUTES_A_WEEK:
            raise LEVEL_BEYOND_A_WEEK.broken()
        return self


class PlanRead(ActivityLevel):
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
    standing: Standing | None = Field(
        default=None, description="Where the recorded level stands against the recommendation."
    )

    @classmethod
    def of(cls, plan: object, language: Language) -> PlanRead:
        """A saved version as read, with its standing told in the reader's language."""
        read = cls.model_validate(plan, from_attributes=True)
        found = recommendation.standing(
            read.moderate_minutes_per_week,
            read.vigorous_minutes_per_week,
            read.strength_days_per_week,
        )
        read.standing = Standing(
            moderate_equivalent_minutes=found.moderate_equivalent_minutes,
            aerobic_recommendation_met=found.meets_aerobic,
            aerobic_minutes_short=found.aerobic_minutes_short,
            strength_days_per_week=found.strength_days,
            strength_recommendation_met=found.meets_strength,
            strength_days_short=found.strength_days_short,
            summary=recommendation.in_words(found, language),
        )
        return read


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
