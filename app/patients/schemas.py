from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from app.errors import Rule
from app.i18n import N_
from app.kit.types import BirthDate, LocalDateTime
from app.patients.temporary_ids import TemporaryId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Long enough for surrounding whitespace, short enough that nothing else fits in.
HetuText = Annotated[str, StringConstraints(min_length=1, max_length=20)]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
# FHIR administrative gender (http://hl7.org/fhir/administrative-gender), as recorded.
Sex = Literal["female", "male", "other", "unknown"]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]


IDENTITY_REQUIRED = Rule(
    "identity_required",
    N_("Give the personal identity code or, for someone who has none yet, a temporary identifier."),
)
ONE_IDENTITY = Rule(
    "one_identity", N_("Give the personal identity code or a temporary identifier, not both.")
)
BIRTH_DATE_REQUIRED = Rule(
    "birth_date_required",
    N_("Without a personal identity code, give the birth date."),
    field="birth_date",
)
TEMPORARY_ID = Field(
    default=None,
    description=(
        "The region's temporary identifier, for someone without a personal identity code yet"
        " (a newcomer, a newborn not yet registered); never returned or logged."
    ),
)


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hetu: HetuText | None = Field(
        default=None,
        description="Personal identity code; never returned or logged.",
        examples=["150377-9974"],
    )
    temporary_id: TemporaryId | None = TEMPORARY_ID
    birth_date: BirthDate | None = Field(
        default=None, description="Only without an identity code, which otherwise gives it."
    )
    given_name: Name = Field(examples=["Ilmari"])
    family_name: Name = Field(examples=["Testinen"])
    home_municipality_code: MunicipalityCode = Field(
        description="Statistics Finland municipality code, e.g. 399.", examples=["399"]
    )
    sex: Sex = Field(
        default="unknown",
        description=(
            "The sex as the patient record states it (FHIR administrative gender); unknown where"
            " none is recorded. Askel does not read it from the identity code: codes issued after"
            " the identity-code reform do not tell it."
        ),
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

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if self.hetu is None and self.temporary_id is None:
            raise IDENTITY_REQUIRED.broken()
        if self.hetu is None and self.birth_date is None:
            raise BIRTH_DATE_REQUIRED.broken()
        return self


class PatientLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hetu: HetuText | None = Field(default=None, examples=["150377-9974"])
    temporary_id: TemporaryId | None = TEMPORARY_ID

    @model_validator(mode="after")
    def _one_identity(self) -> Self:
        if self.hetu is None and self.temporary_id is None:
            raise IDENTITY_REQUIRED.broken()
        if self.hetu is not None and self.temporary_id is not None:
            raise ONE_IDENTITY.broken()
        return self


class PatientIdentify(BaseModel):
    """The personal identity code of someone registered under a temporary identifier."""

    model_config = ConfigDict(extra="forbid")

    temporary_id: TemporaryId
    hetu: HetuText = Field(examples=["150377-9974"])


class PatientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    birth_date: date
    sex: Sex
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
    # The default reads an answer remembered for a retry before the field existed, when every
    # patient had a code.
    identified_by: Literal["identity_code", "temporary_identifier"] = Field(
        default="identity_code",
        description=(
            "How the patient is known: by their personal identity code, or only by the region's"
            " temporary identifier until the code arrives."
        ),
    )
