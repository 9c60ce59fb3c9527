from __future__ import annotations

import uuid

from pydantic import BaseModel


class ServiceLocation(BaseModel):
    name: str
    municipality_code: str


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
