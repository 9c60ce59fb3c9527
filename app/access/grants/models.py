from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, CreatedAtMixin, IdMixin, UTCDateTime


class AccessGrant(IdMixin, CreatedAtMixin, Base):
    """A counsellor's right to a service's counselling tab and booking, for a period. Effective
    only once attested by their municipality, until it expires or either side revokes it."""

    __tablename__ = "access_grants"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counselling_services.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(128))
    attested_by: Mapped[str | None] = mapped_column(String(128))
    attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    last_used_on: Mapped[date | None] = mapped_column(Date)
    # The last access review that confirmed the grant is still needed.
    recertified_by: Mapped[str | None] = mapped_column(String(128))
    recertified_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_access_grants_user_service", "user_id", "service_id"),)
