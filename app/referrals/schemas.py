from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from app.classifications.contact_modes import ContactMode
from app.errors import Rule
from app.i18n import N_
from app.kit.types import LocalDateTime
from app.patients.schemas import LanguageCode

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ReasonCodeValue = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Urgency = Literal["routine", "urgent"]

# ICD-10 (WHO and the Finnish edition): a letter, two digits, optionally a dot and up to four
# more characters, e.g. E11.9, I10, F32.1. ICPC-2: a chapter letter and two digits, e.g. T90.
_CODE_FORMS = {
    "icd10": re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"),
    "icpc2": re.compile(r"^[ABDFHKLNPRSTUWXYZ][0-9]{2}$"),
}


MALFORMED_CODE = Rule(
    "malformed_diagnosis_code",
    N_("The code is not a well-formed {system} code (e.g. E11.9 in ICD-10, T90 in ICPC-2)."),
    field="code",
)


class DiagnosisCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Literal["icd10", "icpc2"]
    code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=12)] = (
        Field(examples=["E11.9"])
    )

    @model_validator(mode="after")
    def _code_has_the_systems_form(self) -> Self:
        if not _CODE_FORMS[self.system].match(self.code):
            raise MALFORMED_CODE.broken(system=self.system)
        return self


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    service_id: uuid.UUID | None = Field(
        default=None, description="Omit to route to the service of the patient's municipality."
    )
    reason_codes: list[DiagnosisCode] = Field(min_length=1, max_length=10)
    reason_text: Text = Field(examples=["Tyypin 2 diabetes, liikunta vähäistä."])
    goal: ShortText = Field(examples=["150 minuuttia reipasta liikuntaa viikossa."])
    exercise_restrictions: ShortText | None = Field(
        default=None, description="What the counsellor must know for safe exercise."
    )
    risk_factors: ShortText | None = None
    urgency: Urgency = "routine"
    preferred_language: LanguageCode | None = Field(
        default=None,
        description="Omit for the patient's registered language, which also routes the referral "
        "when no service is named (a Swedish speaker to a service that speaks Swedish).",
    )
    contact_mode: ContactMode = "in_person"
    consent_to_counselling: StrictBool
    consent_given_by: Literal["patient", "guardian"] = Field(
        default="patient",
        description=(
            "Who consented: the patient, or for a minor not mature enough to decide, their"
            " guardian (only for patients under 18)."
        ),
    )
    book_by_service: StrictBool = Field(
        default=False, description="No suitable slot found: the service books and contacts."
    )


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: ReasonCodeValue = Field(
        description="One of `GET /api/v1/referral-reasons?kind=` for the action.",
        examples=["patient_declined"],
    )
    reason_text: ShortText = Field(examples=["Potilas ei halua neuvontaa nyt."])
    cancel_booked_appointments: StrictBool = Field(
        default=False,
        description="Closing a referral cancels its appointments still to come: true confirms "
        "it. Without it, a referral with such appointments is not closed (409 "
        "`appointments_booked` lists them).",
    )


class CancelBody(ReasonBody):
    cancelled_by: Literal["patient", "provider"]


class CompleteBody(ReasonBody):
    outcome_summary: Text = Field(examples=["Liikkuu nyt 200 minuuttia viikossa."])


class Referrer(BaseModel):
    subject: str
    name: str | None
    organisation: str
    profession: str | None


class StatusReason(BaseModel):
    code: str
    text: str | None


class CancelledAppointment(BaseModel):
    id: uuid.UUID
    start_at: LocalDateTime
    counsellor_id: uuid.UUID


class ReferralRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    service_id: uuid.UUID
    status: str
    version: int
    urgency: Urgency
    reason_codes: list[DiagnosisCode]
    reason_text: str
    goal: str
    exercise_restrictions: str | None
    risk_factors: str | None
    preferred_language: str
    contact_mode: ContactMode
    consent_to_counselling: bool
    # The default reads an answer remembered for a retry before the field existed.
    consent_given_by: Literal["patient", "guardian"] = "patient"
    referrer: Referrer
    booking_by_service: bool
    expected_contact_by: date | None
    cancelled_by: Literal["patient", "provider"] | None
    status_reason: StatusReason | None
    outcome_summary: str | None
    created_at: LocalDateTime
    updated_at: LocalDateTime
    allowed_actions: list[str] = Field(description="What the caller may do with it now.")
    cancelled_appointments: list[CancelledAppointment] = Field(
        default_factory=list,
        description="The appointments this request cancelled: closing a referral frees those "
        "still to come.",
    )


class PatientSummary(BaseModel):
    id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date
    language: str


class ReferralSummary(BaseModel):
    id: uuid.UUID
    status: str
    version: int
    urgency: Urgency
    service_id: uuid.UUID
    booking_by_service: bool
    expected_contact_by: date | None
    created_at: LocalDateTime
    patient: PatientSummary


class Actor(BaseModel):
    subject: str
    name: str | None
    roles: list[str]
    organisation: str


class ReferralEventRead(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    occurred_at: LocalDateTime
    actor: Actor
    reason_code: str | None
    reason_text: str | None


class ReasonCodeRead(BaseModel):
    kind: str
    code: str
    text: str
    valid_from: date
    valid_until: date | None
