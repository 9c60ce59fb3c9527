"""The directory of counselling services and the routing of referrals to them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.organisations import repository
from app.organisations.models import CounsellingService, Organisation
from app.organisations.schemas import ServiceLocation, ServiceRead


def directory(session: Session) -> list[ServiceRead]:
    return [
        ServiceRead(
            id=service.id,
            code=service.code,
            name_fi=service.name_fi,
            name_sv=service.name_sv,
            municipality_code=municipality_code or "",
            catchment=sorted(c.municipality_code for c in service.catchment),
            languages=service.languages,
            modes=service.modes,
            locations=locations(service),
            contact_days_routine=service.contact_days_routine,
            contact_days_urgent=service.contact_days_urgent,
            oid=service.oid,
        )
        for service, municipality_code in repository.services_with_municipality(session)
    ]


def route(
    session: Session, home_municipality_code: str, language: str
) -> CounsellingService | None:
    """The service for a patient living in `home_municipality_code`: among those whose catchment
    includes it, one that speaks the patient's language, then the municipality's own."""
    candidates = repository.services_with_municipality(session, serving=home_municipality_code)
    if not candidates:
        return None
    best = min(
        candidates,
        key=lambda row: (
            language not in row[0].languages,
            row[1] != home_municipality_code,
            row[0].code,
        ),
    )
    return best[0]


def get(session: Session, service_id: uuid.UUID) -> CounsellingService | None:
    return repository.get_service(session, service_id)


def by_code(session: Session, code: str) -> CounsellingService | None:
    """A service by its directory code (how other systems name it)."""
    return repository.service_by_code(session, code)


def region_code(session: Session) -> str:
    """The code of the region this installation serves (the controller of the data)."""
    return repository.region_code(session) or ""


def municipality_code_of(session: Session, organisation_code: str) -> str | None:
    """The Statistics Finland code of a municipality organisation (None for other kinds)."""
    return repository.municipality_code_of(session, organisation_code)


def oid_of(session: Session, organisation_code: str) -> str | None:
    """The organisation's OID in THL's SOTE organisation register, where it is known."""
    return repository.oid_of(session, organisation_code)


def service_codes(session: Session) -> dict[uuid.UUID, str]:
    """Every counselling service's code by its id."""
    return repository.service_codes(session)


def municipality_name(session: Session, municipality_code: str) -> str | None:
    """A municipality's Finnish name by its Statistics Finland code (None: no such one here)."""
    return repository.municipality_name(session, municipality_code)


def municipalities(session: Session) -> Sequence[Organisation]:
    """The region's municipalities (each with its Statistics Finland code), by Finnish name."""
    return repository.municipalities(session)


def locations(service: CounsellingService) -> list[ServiceLocation]:
    """Where the service meets its patients, with the address and phone of each if known."""
    return [ServiceLocation(**location) for location in service.locations]
