from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utcnow
from app.kit.models import Base, CreatedAtMixin, IdMixin, UTCDateTime


class Visit(IdMixin, CreatedAtMixin, Base):
    """One counselling visit on the tab. Never deleted or edited: a correction is a new row
    that supersedes this one, which stays readable, marked corrected."""

    __tablename__ = "visits"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counselling_services.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id"))
    counsellor_subject: Mapped[str] = mapped_column(String(128))
    counsellor_name: Mapped[str | None] = mapped_column(String(200))
    # As it was when the visit was recorded, for the statistics.
    counsellor_profession: Mapped[str | None] = mapped_column(String(32))
    visited_on: Mapped[date] = mapped_column(Date)
    contact_type: Mapped[str] = mapped_column(String(16))
    duration_minutes: Mapped[int]

    # The physical-activity vital sign (LOINC 89555-7 days/week, 68516-4 min/day, 82290-8
    # min/week) and muscle strengthening (82291-6 days/week).
    mvpa_days_per_week: Mapped[int | None]
    mvpa_minutes_per_day: Mapped[int | None]
    minutes_per_week: Mapped[int | None]
    strength_days_per_week: Mapped[int | None]
    sitting_hours_per_day: Mapped[float | None] = mapped_column(Float)
    stage_of_change: Mapped[str | None] = mapped_column(String(20))
    barriers: Mapped[str | None] = mapped_column(Text)
    resources: Mapped[str | None] = mapped_column(Text)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    waist_cm: Mapped[float | None] = mapped_column(Float)
    systolic_mmhg: Mapped[int | None]
    diastolic_mmhg: Mapped[int | None]
    fitness_test: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    guardian_present: Mapped[bool] = mapped_column(default=False, server_default=false())
    family_visit: Mapped[bool] = mapped_column(default=False, server_default=false())

    # When the visit was first recorded; a correction keeps its original's, so that it takes
    # the original's place among the visits of a day (first and last assessments).
    first_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Unique: a record is corrected once; a later fix corrects the correction.
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), unique=True)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    corrected: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_visits_referral", "referral_id", "visited_on", "first_recorded_at"),
        Index("ix_visits_visited_on", "visited_on"),
    )


class PlanVersion(IdMixin, CreatedAtMixin, Base):
    """One saved version of the activity plan; every save is a new version."""

    __tablename__ = "plan_versions"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    version: Mapped[int]
    goals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    support_agreed: Mapped[str | None] = mapped_column(Text)
    follow_up_months: Mapped[list[int]] = mapped_column(JSON)
    agreed_on: Mapped[date] = mapped_column(Date)
    agreed_how: Mapped[str] = mapped_column(String(16))
    author_subject: Mapped[str] = mapped_column(String(128))
    author_name: Mapped[str | None] = mapped_column(String(200))
    change_note: Mapped[str | None] = mapped_column(Text)
    # The weekly level as agreed on, in the national recommendation's terms (UKK 2019).
    moderate_minutes_per_week: Mapped[int | None]
    vigorous_minutes_per_week: Mapped[int | None]
    strength_days_per_week: Mapped[int | None]
    sitting_hours_per_day: Mapped[float | None] = mapped_column(Float)
    sitting_break_goal: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("referral_id", "version"),)
