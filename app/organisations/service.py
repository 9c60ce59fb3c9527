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


# The national languages: the region serves in both, so a patient is sent for either to a service
# elsewhere in the region when none of those serving their municipality speaks it.
NATIONAL_LANGUAGES = frozenset({"fi", "sv"})


def route(
    session: Session, home_municipality_code: str, language: str
) -> CounsellingService | None:
    """The service for a patient living in `home_municipality_code`: among those whose catchment
    includes it, one that speaks the patient's language (the municipality's own first); for
    Finnish or Swedish, failing that, one elsewhere in the region that speaks it; otherwise the
    usual one, the municipality's own. None when no service serves the municipality at all."""
    candidates = repository.services_with_municipality(session, serving=home_municipality_code)
    if not candidates:
        return None
    speaking = [row for row in candidates if language in row[0].languages]
    if not speaking and language in NATIONAL_LANGUAGES:
        speaking = [
            row
            for row in repository.services_with_municipality(session)
            if language in row[0].languages
        ]
    best = min(
        speaking or candidates,
        key=lambda row: (row[1] != home_municipality_code, row[0].code),
    )
    return best[0]


def named(name_fi: str, name_sv: str | None, language: str) -> str:
    """A name in the reader's language: the Swedish one for a Swedish reader where there is one
    (a place in a Finnish-only municipality has none), else the Finnish one."""
    return name_sv if language == "sv" and name_sv else name_fi


def service_name(service: CounsellingService, language: str) -> str:
    return named(service.name_fi, service.name_sv, language)


def place_names(session: Session, language: str) -> dict[str, str]:
    """Every place where a service meets patients, by the name its times carry (the Finnish
    one, or the Swedish one where a counsellor typed that), in `language`."""
    names: dict[str, str] = {}
    for service, _code in repository.services_with_municipality(session):
        for place in locations(service):
            shown = named(place.name, place.name_sv, language)
            names[place.name] = shown
            if place.name_sv:
                names[place.name_sv] = shown
    return names


def place_name(session: Session, stored: str, language: str) -> str:
    """One place's name in `language` (a name no service lists is shown as it was typed)."""
    return place_names(session, language).get(stored, stored)


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


def municipality_name(session: Session, municipality_code: str, language: str = "fi") -> str | None:
    """A municipality's name in `language` by its Statistics Finland code (None: no such one
    here)."""
    names = repository.municipality_names(session, municipality_code)
    return named(*names, language) if names else None


def names_by_code(session: Session, language: str) -> dict[str, dict[str, str]]:
    """The municipalities' names by their Statistics Finland codes and the services' by their
    directory codes (as the statistics tables group them), in `language`."""
    return {
        "municipality": {
            m.municipality_code or "": named(m.name_fi, m.name_sv, language)
            for m in repository.municipalities(session)
        },
        "service": {
            service.code: service_name(service, language)
            for service, _code in repository.services_with_municipality(session)
        },
    }


def municipalities(session: Session) -> Sequence[Organisation]:
    """The region's municipalities (each with its Statistics Finland code), by Finnish name."""
    return repository.municipalities(session)


def locations(service: CounsellingService) -> list[ServiceLocation]:
    """Where the service meets its patients, with the address and phone of each if known."""
    return [ServiceLocation(**location) for location in service.locations]
