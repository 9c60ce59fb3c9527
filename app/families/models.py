from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, CreatedAtMixin, IdMixin


class Guardian(IdMixin, CreatedAtMixin, Base):
    """A minor's guardian (huoltaja; vårdnadshavare), as the clinicians and counsellors caring
    for the minor record them: who decides with or for the child, who is told of the child's
    appointments, who may come to the visits."""

    __tablename__ = "guardians"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    receives_notices: Mapped[bool] = mapped_column(default=True)
    recorded_by: Mapped[str] = mapped_column(String(128))
