from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, selectinload

from app.organisations.models import (
    CounsellingService,
    Organisation,
    OrganisationKind,
    ServiceCatchment,
)


def services_with_municipality(
    session: Session, *, serving: str | None = None
) -> Sequence[Row[CounsellingService, str | None]]:
    """Every service with its own municipality's code and its catchment loaded; only those
    whose catchment includes `serving` when given."""
    statement = (
        select(CounsellingService, Organisation.municipality_code)
        .join(Organisation, CounsellingService.municipality_id == Organisation.id)
        .options(selectinload(CounsellingService.catchment))
        .order_by(CounsellingService.code)
    )
    if serving is not None:
        statement = statement.where(
            CounsellingService.id.in_(
                select(ServiceCatchment.service_id).where(
                    ServiceCatchment.municipality_code == serving
                )
            )
        )
    return session.execute(statement).all()


def get_service(session: Session, service_id: uuid.UUID) -> CounsellingService | None:
    return session.get(CounsellingService, service_id)


def service_by_code(session: Session, code: str) -> CounsellingService | None:
    statement = select(CounsellingService).where(CounsellingService.code == code)
    return session.scalars(statement).first()


def region_code(session: Session) -> str | None:
    statement = select(Organisation.code).where(Organisation.kind == OrganisationKind.region)
    return session.scalars(statement).first()


def municipality_code_of(session: Session, organisation_code: str) -> str | None:
    statement = select(Organisation.municipality_code).where(Organisation.code == organisation_code)
    return session.scalars(statement).first()


def oid_of(session: Session, organisation_code: str) -> str | None:
    statement = select(Organisation.oid).where(Organisation.code == organisation_code)
    return session.scalars(statement).first()


def municipality_names(session: Session, municipality_code: str) -> tuple[str, str] | None:
    """The municipality's Finnish and Swedish names."""
    statement = select(Organisation.name_fi, Organisation.name_sv).where(
        Organisation.municipality_code == municipality_code
    )
    row = session.execute(statement).first()
    return (row.name_fi, row.name_sv) if row else None


def service_codes(session: Session) -> dict[uuid.UUID, str]:
    return {
        row.id: row.code
        for row in session.execute(select(CounsellingService.id, CounsellingService.code))
    }


def municipalities(session: Session) -> Sequence[Organisation]:
    statement = select(Organisation).where(Organisation.kind == OrganisationKind.municipality)
    return session.scalars(statement.order_by(Organisation.name_fi)).all()
