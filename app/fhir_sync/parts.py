"""What a referral's resources are built from, and the small pieces every resource kind uses:
the business identifier, instants, codings, quantities, and references to the practitioners and
organisations Askel publishes beside the referral (`parties.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.access.models import User
from app.counselling.models import PlanVersion, Visit
from app.counselling.schemas import Outcome
from app.fhir_sync.mappings import mapping, system
from app.kit.clock import to_helsinki
from app.organisations.models import CounsellingService
from app.patients.models import Patient
from app.patients.temporary_ids import TemporaryId
from app.referrals.models import Referral
from app.scheduling.models import Appointment, Slot

Resource = dict[str, Any]
# (resource type, Askel key) → a Reference to it on the region's server.
Refer = Callable[[str, uuid.UUID], Resource]
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"


@dataclass(frozen=True, slots=True)
class Booking:
    appointment: Appointment
    slot: Slot
    counsellor: User


@dataclass(frozen=True, slots=True)
class RecordedVisit:
    """The current version of a visit, the id of its first version, which names it, and the
    versions it corrected (oldest first), whose figures tell which of its observations changed."""

    visit: Visit
    root_id: uuid.UUID
    earlier: tuple[Visit, ...] = ()


@dataclass(frozen=True, slots=True)
class ReferralRecords:
    referral: Referral
    patient: Patient
    # The identity code, and the temporary identifier the patient was registered under.
    hetu: str | None
    service: CounsellingService
    region_code: str
    bookings: list[Booking] = field(default_factory=list)
    visits: list[RecordedVisit] = field(default_factory=list)
    plan: PlanVersion | None = None
    outcome: Outcome | None = None
    # The region's ID in THL's register of controllers (urn:oid:1.2.246.537.6.40174), which
    # names it as the information custodian; None where it is not configured.
    custodian_id: str | None = None
    temporary_id: TemporaryId | None = None
    # The national registers' identifiers where the directory knows them: the referrer's
    # organisation's OID in the SOTE organisation register, and users' Terhikki numbers by
    # account name; and their professions, which give their occupational class.
    referrer_organisation_oid: str | None = None
    register_numbers: dict[str, str] = field(default_factory=dict)
    professions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outbound:
    """One resource to publish, under the Askel key that identifies it."""

    resource_type: str
    key: uuid.UUID
    body: Resource


def derived_key(owner: uuid.UUID, part: str) -> uuid.UUID:
    """A stable key for a resource without a row of its own (one observation of a visit)."""
    return uuid.uuid5(owner, part)


def named_key(kind: str, value: str) -> uuid.UUID:
    """A stable key for what Askel knows only by a code or an account name (a referrer's
    organisation, a practitioner): the same for every referral that names it."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{system(kind)}:{value}")


def business_identifier(key: uuid.UUID) -> Resource:
    return {"system": system("askel"), "value": f"urn:uuid:{key}"}


def instant(moment: datetime) -> str:
    """Whole seconds: instants compared with each other (a Task's authoredOn and lastModified)
    have the same precision, which FHIRPath needs to order them."""
    return to_helsinki(moment.replace(microsecond=0))


def identifier(kind: str, value: str) -> Resource:
    return {"system": system(kind), "value": value}


def displayed(reference: Resource, display: str | None) -> Resource:
    return {**reference, "display": display} if display else reference


def coding(entry: dict[str, str]) -> Resource:
    return {key: entry[key] for key in ("system", "code", "display") if key in entry}


def quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def physical_activity() -> Resource:
    return {"coding": [coding(mapping("common")["physical_activity_category"])]}


def practitioner_reference(
    refer: Refer, subject: str, name: str | None, *, identified: bool = True
) -> Resource:
    """A user as the Practitioner Askel publishes for them; `identified` adds their account name
    beside the reference (not where the Physical Activity IG reserves identifiers for US NPIs)."""
    reference = refer("Practitioner", named_key("practitioner", subject))
    if identified:
        reference = {**reference, "identifier": identifier("practitioner", subject)}
    return displayed(reference, name)


def service_reference(
    records: ReferralRecords, refer: Refer, *, identified: bool = True
) -> Resource:
    """The counselling service as its Organization; the poller finds the service's Tasks by the
    identifier beside the reference."""
    reference = refer("Organization", records.service.id)
    if identified:
        reference = {**reference, "identifier": identifier("service", records.service.code)}
    return displayed(reference, records.service.name_fi)
