from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, CreatedAtMixin, IdMixin, UTCDateTime


class AvailabilityRule(IdMixin, Base):
    """A weekly recurring window of a counsellor's time, in Helsinki local time."""

    __tablename__ = "availability_rules"

    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    weekday: Mapped[int]  # Monday 0 ... Sunday 6
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    location: Mapped[str] = mapped_column(String(200))
    modes: Mapped[list[str]] = mapped_column(JSON)
    visit_types: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    group_capacity: Mapped[int] = mapped_column(default=8)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class AvailabilityException(IdMixin, Base):
    """A day off or an absence (no slots then), or a one-off extra window."""

    __tablename__ = "availability_exceptions"

    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "absence" | "extra"
    on_date: Mapped[date] = mapped_column(Date)
    # An absence without times covers the whole day.
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    location: Mapped[str | None] = mapped_column(String(200))
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    visit_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_capacity: Mapped[int] = mapped_column(default=8)
    note: Mapped[str | None] = mapped_column(String(500))


class Slot(IdMixin, Base):
    """A bookable time materialised from the rules. Slots of different visit types overlap; the
    appointments booked on them never do (for one counsellor)."""

    __tablename__ = "slots"

    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counselling_services.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    visit_type: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(default=1)
    booked_count: Mapped[int] = mapped_column(default=0)
    location: Mapped[str] = mapped_column(String(200))
    # ",in_person,phone," - delimited, so that both databases can filter with LIKE.
    modes: Mapped[str] = mapped_column(String(100))
    languages: Mapped[str] = mapped_column(String(100))
    # Withdrawn when the rules no longer produce it; kept while an appointment needs it.
    withdrawn: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        CheckConstraint("booked_count >= 0 AND booked_count <= capacity", name="within_capacity"),
        UniqueConstraint("counsellor_id", "start_at", "visit_type"),
        Index("ix_slots_search", "service_id", "start_at"),
        Index("ix_slots_counsellor_time", "counsellor_id", "start_at"),
    )


class SlotHold(IdMixin, CreatedAtMixin, Base):
    """A few minutes' reservation while a clinician confirms with the patient. Expired holds
    simply stop counting; nothing has to release them."""

    __tablename__ = "slot_holds"

    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_slot_holds_counsellor_time", "counsellor_id", "start_at"),)


class Appointment(IdMixin, CreatedAtMixin, Base):
    """A booked counselling visit. On PostgreSQL an exclusion constraint forbids two booked
    appointments of one counsellor overlapping (unless they share a group slot); on SQLite a
    trigger does."""

    __tablename__ = "appointments"

    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slots.id"), index=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counselling_services.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    visit_type: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # booked|cancelled|attended|no_show
    booked_by: Mapped[str] = mapped_column(String(128))
    cancelled_by: Mapped[str | None] = mapped_column(String(16))  # patient|provider
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    late_cancellation: Mapped[bool | None]
    rescheduled_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id"))

    __table_args__ = (
        Index("ix_appointments_counsellor_time", "counsellor_id", "start_at"),
        Index("ix_appointments_service_time", "service_id", "start_at"),
    )


class CalendarToken(IdMixin, CreatedAtMixin, Base):
    """The secret in a counsellor's calendar-feed address; revocable."""

    __tablename__ = "calendar_tokens"

    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
