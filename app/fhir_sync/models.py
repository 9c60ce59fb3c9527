from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utcnow
from app.kit.models import Base, IdMixin, UTCDateTime


class FhirLink(IdMixin, Base):
    """Where one of Askel's resources lives on the region's server, the version last written
    there and a hash of what was written, so that an unchanged resource is not sent again.
    A region-owned link names a resource the region's system made (the ServiceRequest and Task
    of a referral it sent): Askel writes only its own elements into it."""

    __tablename__ = "fhir_links"

    resource_type: Mapped[str] = mapped_column(String(32))
    askel_key: Mapped[uuid.UUID] = mapped_column(Uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    peer_id: Mapped[str] = mapped_column(String(64))
    peer_version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    region_owned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("resource_type", "askel_key"),
        Index("ix_fhir_links_referral", "referral_id"),
    )


class SyncCursor(Base):
    """How far a poll of the region's server has read (e.g. the newest Task `lastUpdated`)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class FhirRefusal(Base):
    """A region Task the poller could not take as a referral, with the reason: the stable error
    code, and for invalid FHIR the place at fault (never a value, so no personal data). The
    region's access administrators read them; a Task refused again updates its row."""

    __tablename__ = "fhir_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_reference: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(300))
    times: Mapped[int] = mapped_column(Integer, default=1)
    first_refused_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_refused_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_fhir_refusals_last", "last_refused_at", "id"),)
