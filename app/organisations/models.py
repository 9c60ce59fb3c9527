from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kit.models import Base, CreatedAtMixin, IdMixin


class OrganisationKind(StrEnum):
    region = "region"
    municipality = "municipality"
    unit = "unit"


class Organisation(IdMixin, CreatedAtMixin, Base):
    """A wellbeing services county, a municipality, or a unit of either (e.g. a health station)."""

    __tablename__ = "organisations"

    # The identifier tokens carry in their `org` claim.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    # Statistics Finland municipality code, for municipalities only.
    municipality_code: Mapped[str | None] = mapped_column(String(3), unique=True)
    official_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The organisation's OID in THL's SOTE organisation register, as Kanta names it.
    oid: Mapped[str | None] = mapped_column(String(64), unique=True)


class CounsellingService(IdMixin, CreatedAtMixin, Base):
    """A municipality's physical-activity counselling service, which receives referrals."""

    __tablename__ = "counselling_services"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    municipality_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    locations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # When a referral is left for the service to book, the patient can expect contact within
    # this many days.
    contact_days_routine: Mapped[int] = mapped_column(default=14, server_default="14")
    contact_days_urgent: Mapped[int] = mapped_column(default=3, server_default="3")
    # The service unit's OID in THL's SOTE organisation register, where it has one of its own.
    oid: Mapped[str | None] = mapped_column(String(64), unique=True)

    catchment: Mapped[list[ServiceCatchment]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )


class ServiceCatchment(Base):
    """A municipality whose residents the service serves."""

    __tablename__ = "service_catchments"

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("counselling_services.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)
