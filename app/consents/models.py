from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, CreatedAtMixin, IdMixin


class ConsentDecision(IdMixin, CreatedAtMixin, Base):
    """The client's decision on one use of their data beyond care and counselling: given or
    withdrawn, for one scope and study, from a date. Decisions are only ever added; the newest
    in force on a day is the one that counts, so a withdrawal never erases what was given."""

    __tablename__ = "consent_decisions"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    scope: Mapped[str] = mapped_column(String(16))
    study: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    decided_on: Mapped[date] = mapped_column(Date)
    # How the client expressed it (signed form, in person, electronically).
    method: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_by_name: Mapped[str | None] = mapped_column(String(200))
    recorded_by_organisation: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_consent_decisions_patient", "patient_id", "scope", "study"),
        Index("ix_consent_decisions_study", "scope", "study", "decided_on"),
    )
