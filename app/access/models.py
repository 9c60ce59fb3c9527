from __future__ import annotations

import uuid

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.access.principal import LOCAL_ISSUER
from app.kit.models import Base, CreatedAtMixin, IdMixin


class User(IdMixin, CreatedAtMixin, Base):
    """A member of staff or a machine client, known by the issuer and `sub` of their tokens:
    two identity providers may well both have a "doctor.laihia", and neither speaks for the
    other's."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "username"),)

    issuer: Mapped[str] = mapped_column(String(200), server_default=LOCAL_ISSUER)
    username: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    profession: Mapped[str | None] = mapped_column(String(32))
    # The professional's number in Valvira's register of health-care professionals (Terhikki),
    # for those registered there.
    register_number: Mapped[str | None] = mapped_column(String(16))
    # For counsellors: the counselling service they work in.
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counselling_services.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # The language the pages speak to them in, once they have chosen one.
    page_language: Mapped[str | None] = mapped_column(String(2))
