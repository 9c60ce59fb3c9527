from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utcnow
from app.kit.models import Base, CreatedAtMixin, IdMixin, UTCDateTime


class Referral(IdMixin, CreatedAtMixin, Base):
    """A physical-activity referral (liikuntalähete) and where it stands."""

    __tablename__ = "referrals"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counselling_services.id"))
    referrer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    referrer_subject: Mapped[str] = mapped_column(String(128))
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_organisation: Mapped[str] = mapped_column(String(64))
    referrer_profession: Mapped[str | None] = mapped_column(String(32))

    reason_codes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    reason_text: Mapped[str] = mapped_column(Text)
    goal: Mapped[str] = mapped_column(Text)
    exercise_restrictions: Mapped[str | None] = mapped_column(Text)
    risk_factors: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16))
    # 0 for urgent, 1 for routine: worklists sort on it, urgent first.
    priority: Mapped[int]
    preferred_language: Mapped[str] = mapped_column(String(8))
    contact_mode: Mapped[str] = mapped_column(String(16))
    consent_to_counselling: Mapped[bool]
    # The patient, or a minor's guardian.
    consent_given_by: Mapped[str] = mapped_column(
        String(8), default="patient", server_default="patient"
    )

    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)
    booking_by_service: Mapped[bool] = mapped_column(default=False)
    expected_contact_by: Mapped[date | None] = mapped_column(Date)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    status_reason_code: Mapped[str | None] = mapped_column(String(64))
    status_reason_text: Mapped[str | None] = mapped_column(Text)
    outcome_summary: Mapped[str | None] = mapped_column(Text)
    # The region's identifier (system|value) of a referral that arrived as a FHIR ServiceRequest.
    source_identifier: Mapped[str | None] = mapped_column(String(300), unique=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Every UPDATE says `WHERE version = <read version>`: of two concurrent writers one wins.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own hook
    __table_args__ = (
        # One index per way of seeing referrals, each in the worklist's order.
        Index("ix_referrals_service_worklist", "service_id", "priority", "created_at", "id"),
        Index(
            "ix_referrals_organisation_worklist",
            "referrer_organisation",
            "priority",
            "created_at",
            "id",
        ),
        Index("ix_referrals_referrer_worklist", "referrer_id", "priority", "created_at", "id"),
    )


class ReferralEvent(IdMixin, Base):
    """One step of a referral's life: the timeline the referrer reads."""

    __tablename__ = "referral_events"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_subject: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_roles: Mapped[str] = mapped_column(String(200))
    actor_organisation: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_text: Mapped[str | None] = mapped_column(Text)


class ReasonCode(IdMixin, Base):
    """A coded reason for rejecting, returning, cancelling or completing a referral. Kept as
    data with validity dates, so that the lists change without a release."""

    __tablename__ = "referral_reason_codes"

    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    text_fi: Mapped[str] = mapped_column(String(200))
    text_sv: Mapped[str] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("kind", "code", "valid_from"),)
