from __future__ import annotations

from datetime import date

from sqlalchemy import LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, CreatedAtMixin, IdMixin


class Patient(IdMixin, CreatedAtMixin, Base):
    """A patient known by a pseudonymous id. The personal identity code is kept only as a keyed
    hash (for lookup) and an authenticated ciphertext bound to this row's id."""

    __tablename__ = "patients"

    hetu_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hetu_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(8))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    home_municipality_code: Mapped[str] = mapped_column(String(3), index=True)
    language: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(20))
    # The population register's non-disclosure order (turvakielto), as the region's chart
    # carries it: `app.patients.nondisclosure` keeps the municipality and phone from disclosure.
    security_prohibition: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(128))
