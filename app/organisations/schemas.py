from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class ServiceLocation(BaseModel):
    name: str = Field(description="The place's Finnish name, as the service's times carry it.")
    name_sv: str | None = Field(
        default=None,
        description="Its Swedish name, for a place in a bilingual municipality; none for a "
        "place where only Finnish is official (Swedish readers see the Finnish name).",
    )
    municipality_code: str
    address: str | None = Field(
        default=None, description="Street address, postal code and town, for the patient."
    )
    address_sv: str | None = Field(
        default=None, description="The address in Swedish, for a place in a bilingual municipality."
    )
    phone: str | None = Field(
        default=None,
        description="Where the patient calls the service there, e.g. to cancel or move a time.",
    )


class ServiceRead(BaseModel):
    id: uuid.UUID
    code: str
    name_fi: str
    name_sv: str
    municipality_code: str
    catchment: list[str]
    languages: list[str]
    modes: list[str]
    locations: list[ServiceLocation]
    contact_days_routine: int
    contact_days_urgent: int
    oid: str | None = Field(
        default=None,
        description="The service unit's OID in THL's SOTE organisation register, where known.",
    )
