from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from app.kit.types import LocalDateTime

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Long enough for surrounding whitespace, short enough that nothing else fits in.
HetuText = Annotated[str, StringConstraints(min_length=1, max_length=20)]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hetu: HetuText = Field(
        description="Personal identity code; never returned or logged.", examples=["150377-9974"]
    )
    given_name: Name = Field(examples=["Ilmari"])
    family_name: Name = Field(examples=["Testinen"])
    home_municipality_code: MunicipalityCode = Field(
        description="Statistics Finland municipality code, e.g. 399.", examples=["399"]
    )
    language: LanguageCode = Field(default="fi", description="ISO 639-1, e.g. fi, sv, en.")
    phone: Phone | None = Field(default=None, description="E.164, e.g. +358401234567.")
    security_prohibition: StrictBool = Field(
        default=False,
        description=(
            "The patient has a security prohibition (turvakielto): the Digital and Population"
            " Data Services Agency keeps their address and contact details from disclosure for"
            " their safety. Askel then shows the home municipality and phone only to the"
            " patient system, never in texts, calendars, extracts or statistics, and audits"
            " each use of them."
        ),
    )


class PatientLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hetu: HetuText = Field(examples=["150377-9974"])


class PatientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    birth_date: date
    sex: Literal["female", "male"]
    given_name: str
    family_name: str
    home_municipality_code: str | None = Field(
        description=(
            "Statistics Finland municipality code. Null for a patient with a security"
            " prohibition unless the caller must act on it (the patient system)."
        )
    )
    language: str
    phone: str | None = Field(
        description=(
            "E.164. Null if none is known, and for a patient with a security prohibition"
            " unless the caller must act on it (the patient system)."
        )
    )
    # The default reads an answer remembered for a retry before the field existed, when no
    # patient had one.
    security_prohibition: bool = False
    created_at: LocalDateTime
