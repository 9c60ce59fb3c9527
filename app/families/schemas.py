from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.patients.schemas import LanguageCode, Name, Phone


class GuardianIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Maria Virtanen"])
    relation: Literal["parent", "other"] = Field(
        default="parent",
        description="A parent, or another guardian (one a court or social services appointed).",
    )
    phone: Phone | None = Field(default=None, description="E.164, e.g. +358401234567.")
    language: LanguageCode = Field(default="fi", description="ISO 639-1: fi, sv or en.")
    receives_notices: StrictBool = Field(
        default=True, description="Told of the child's appointments by text message."
    )


class GuardiansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    guardians: list[GuardianIn] = Field(max_length=4)


class GuardianRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    relation: Literal["parent", "other"]
    phone: str | None
    language: str
    receives_notices: bool


class Guardians(BaseModel):
    minor: bool = Field(description="Whether the patient is under 18 today.")
    guardians: list[GuardianRead]
