from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, CreatedAtMixin, IdMixin


class Patient(IdMixin, CreatedAtMixin, Base):
    """A patient known by a pseudonymous id. The personal identity code is kept only as a keyed
    hash (for lookup) and an authenticated ciphertext bound to this row's id; so is the region's
    temporary identifier of someone who has no code yet, which stays findable after the code
    arrives."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "hetu_hash IS NOT NULL OR temporary_id_hash IS NOT NULL", name="identified"
        ),
    )

    hetu_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    hetu_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    temporary_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    temporary_id_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Set on a record made under a temporary identifier when the permanent code turned out to
    # belong to a patient Askel already knew: everything moved to that one, this stays to be
    # found and audited.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"))
    birth_date: Mapped[date]
    # FHIR administrative gender as the patient record or the registering clinician states it
    # (female, male, other, unknown): identity codes issued after the reform no longer tell it.
    sex: Mapped[str] = mapped_column(String(8), default="unknown", server_default="unknown")
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    home_municipality_code: Mapped[str] = mapped_column(String(3), index=True)
    language: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(20))
    # The population register's non-disclosure order (turvakielto), as the region's chart
    # carries it: `app.patients.nondisclosure` keeps the municipality and phone from disclosure.
    security_prohibition: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(128))

    @property
    def identified_by(self) -> Literal["identity_code", "temporary_identifier"]:
        return "temporary_identifier" if self.hetu_hash is None else "identity_code"
