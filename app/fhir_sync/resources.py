"""A referral and everything recorded for it, as the FHIR R4 resources the region receives.

The codes, systems, profiles and value maps come from `fhir_mappings/`; this module only puts
Askel's values in their places. References to other resources go through `refer`, which the
publisher answers with the id each one has on the region's server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.access.models import User
from app.counselling.models import PlanVersion, Visit
from app.counselling.schemas import Outcome
from app.fhir_sync.mappings import fixed, mapped, mapping, meta, system
from app.kit.clock import to_helsinki
from app.organisations.models import CounsellingService
from app.patients.models import Patient
from app.referrals.models import Referral
from app.scheduling.models import Appointment, Slot

Resource = dict[str, Any]
# (resource type, Askel key) → a Reference to it on the region's server.
Refer = Callable[[str, uuid.UUID], Resource]
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
STATUS_REASON_REQUIRED = frozenset({"rejected", "on-hold", "cancelled", "failed"})


@dataclass(frozen=True, slots=True)
class Booking:
    appointment: Appointment
    slot: Slot
    counsellor: User


@dataclass(frozen=True, slots=True)
class RecordedVisit:
    """The current version of a visit and the id of its first version, which names it."""

    visit: Visit
    root_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReferralRecords:
    referral: Referral
    patient: Patient
    hetu: str
    service: CounsellingService
    region_code: str
    bookings: list[Booking] = field(default_factory=list)
    visits: list[RecordedVisit] = field(default_factory=list)
    plan: PlanVersion | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """One resource to publish, under the Askel key that identifies it."""

    resource_type: str
    key: uuid.UUID
    body: Resource


def derived_key(owner: uuid.UUID, part: str) -> uuid.UUID:
    """A stable key for a resource without a row of its own (one observation of a visit)."""
    return uuid.uuid5(owner, part)


def business_identifier(key: uuid.UUID) -> Resource:
    return {"system": system("askel"), "value": f"urn:uuid:{key}"}


def _instant(moment: datetime) -> str:
    return to_helsinki(moment)


def _identified(kind: str, value: str, display: str | None = None) -> Resource:
    reference: Resource = {"identifier": {"system": system(kind), "value": value}}
    if display:
        reference["display"] = display
    return reference


def _coding(entry: dict[str, str]) -> Resource:
    return {key: entry[key] for key in ("system", "code", "display") if key in entry}


def _quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _physical_activity() -> Resource:
    return {"coding": [_coding(mapping("common")["physical_activity_category"])]}


def patient(records: ReferralRecords) -> Outbound:
    """The patient as FinnishBase's fi-base-patient, with its turvakielto label when they have a
    security prohibition (`Patient.toml`, `[security_label]`)."""
    person, patient_map = records.patient, mapping("Patient")
    body: Resource = {
        "resourceType": "Patient",
        **meta("Patient"),
        "identifier": [
            {
                **patient_map["hetu_identifier"],
                "system": system("hetu"),
                "value": records.hetu,
            }
        ],
        "name": [{"family": person.family_name, "given": [person.given_name]}],
        "gender": mapped("Patient", "gender", person.sex),
        "birthDate": person.birth_date.isoformat(),
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": person.language}]}}
        ],
    }
    if person.security_prohibition:
        label = _coding(patient_map["security_label"])
        body["meta"] = {**body.get("meta", {}), "security": [label]}
    return Outbound("Patient", person.id, body)


def _service(records: ReferralRecords) -> Resource:
    return _identified("service", records.service.code, records.service.name_fi)


def service_request(records: ReferralRecords, refer: Refer) -> Outbound:
    referral = records.referral
    notes = [{"id": "goal", "text": referral.goal}]
    if referral.exercise_restrictions:
        notes.append({"id": "restrictions", "text": referral.exercise_restrictions})
    reason_systems = mapping("ServiceRequest")["maps"]["reason_system"]
    body: Resource = {
        "resourceType": "ServiceRequest",
        **meta("ServiceRequest"),
        "identifier": [business_identifier(referral.id)],
        "status": mapped("ServiceRequest", "status", referral.status),
        **fixed("ServiceRequest"),
        "category": [_physical_activity()],
        "code": {"coding": [_coding(mapping("common")["counselling"])]},
        "priority": mapped("ServiceRequest", "priority", referral.urgency),
        "subject": refer("Patient", records.patient.id),
        "authoredOn": _instant(referral.created_at),
        "requester": _identified("practitioner", referral.referrer_subject, referral.referrer_name),
        "performer": [_service(records)],
        "reasonCode": [
            {
                "coding": [
                    {"system": reason_systems[code["system"]], "code": code["code"]}
                    for code in referral.reason_codes
                ],
                "text": referral.reason_text,
            }
        ],
        "note": notes,
    }
    return Outbound("ServiceRequest", referral.id, body)


def task(records: ReferralRecords, refer: Refer) -> Outbound:
    referral, task_map = records.referral, mapping("Task")
    status = mapped("Task", "status", referral.status)
    body: Resource = {
        "resourceType": "Task",
        **meta("Task"),
        "identifier": [business_identifier(referral.id)],
        "status": status,
        "businessStatus": {
            "coding": [{"system": task_map["business_status"]["system"], "code": referral.status}]
        },
        **fixed("Task"),
        "priority": mapped("ServiceRequest", "priority", referral.urgency),
        "focus": refer("ServiceRequest", referral.id),
        "for": refer("Patient", records.patient.id),
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.updated_at),
        "requester": _identified("organisation", referral.referrer_organisation),
        "owner": _service(records),
    }
    if referral.status_reason_text:
        body["businessStatus"]["text"] = referral.status_reason_text
    if status in STATUS_REASON_REQUIRED:
        body["statusReason"] = {"text": referral.status_reason_text or referral.status_reason_code}
    if records.outcome is not None and referral.outcome_summary:
        body["output"] = [
            {
                "type": task_map["output"]["type"],
                "valueReference": refer("DiagnosticReport", referral.id),
            }
        ]
    return Outbound("Task", referral.id, body)


def schedule(records: ReferralRecords, counsellor: User) -> Outbound:
    body: Resource = {
        "resourceType": "Schedule",
        **meta("Schedule"),
        "identifier": [business_identifier(counsellor.id)],
        **fixed("Schedule"),
        "actor": [_identified("practitioner", counsellor.username, counsellor.display_name)],
        "comment": records.service.name_fi,
    }
    return Outbound("Schedule", counsellor.id, body)


def slot(booking: Booking, refer: Refer) -> Outbound:
    booked = booking.slot
    body: Resource = {
        "resourceType": "Slot",
        **meta("Slot"),
        "identifier": [business_identifier(booked.id)],
        "schedule": refer("Schedule", booked.counsellor_id),
        "status": mapped("Slot", "status", booked.booked_count >= booked.capacity),
        "start": _instant(booked.start_at),
        "end": _instant(booked.end_at),
    }
    return Outbound("Slot", booked.id, body)


def appointment(records: ReferralRecords, booking: Booking, refer: Refer) -> Outbound:
    booked, counsellor = booking.appointment, booking.counsellor
    body: Resource = {
        "resourceType": "Appointment",
        **meta("Appointment"),
        "identifier": [business_identifier(booked.id)],
        "extension": [
            {
                "url": mapping("Appointment")["referral_id"]["url"],
                "valueString": str(booked.referral_id),
            }
        ],
        "status": mapped("Appointment", "status", booked.status),
        "serviceType": [{"coding": [_coding(mapping("common")["counselling"])]}],
        "appointmentType": {"text": mapped("Appointment", "visit_type", booked.visit_type)},
        "start": _instant(booked.start_at),
        "end": _instant(booked.end_at),
        "minutesDuration": int((booked.end_at - booked.start_at).total_seconds() // 60),
        "slot": [refer("Slot", booked.slot_id)],
        "basedOn": [refer("ServiceRequest", booked.referral_id)],
        "participant": [
            {"actor": refer("Patient", records.patient.id), "status": "accepted"},
            {
                "actor": _identified("practitioner", counsellor.username, counsellor.display_name),
                "status": "accepted",
            },
            {"actor": {"display": booked.location}, "status": "accepted"},
        ],
    }
    if booked.status == "cancelled" and booked.cancelled_by:
        reason_system = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
        code = mapped("Appointment", "cancelled_by", booked.cancelled_by)
        body["cancelationReason"] = {"coding": [{"system": reason_system, "code": code}]}
    return Outbound("Appointment", booked.id, body)


def encounter(records: ReferralRecords, recorded: RecordedVisit, refer: Refer) -> Outbound:
    visit = recorded.visit
    body: Resource = {
        "resourceType": "Encounter",
        **meta("Encounter"),
        "identifier": [business_identifier(recorded.root_id)],
        **fixed("Encounter"),
        "class": {
            "system": mapping("Encounter")["class"]["system"],
            "code": mapped("Encounter", "class", visit.contact_type),
        },
        "subject": refer("Patient", records.patient.id),
        "basedOn": [refer("ServiceRequest", visit.referral_id)],
        "participant": [
            {
                "individual": _identified(
                    "practitioner", visit.counsellor_subject, visit.counsellor_name
                )
            }
        ],
        "period": {"start": visit.visited_on.isoformat()},
        "length": _quantity(visit.duration_minutes, "min"),
        "serviceProvider": _service(records),
    }
    if visit.appointment_id:
        body["appointment"] = [refer("Appointment", visit.appointment_id)]
    return Outbound("Encounter", recorded.root_id, body)


def observations(
    records: ReferralRecords, recorded: RecordedVisit, refer: Refer
) -> Iterator[Outbound]:
    """One per activity figure the visit recorded."""
    visit, codes = recorded.visit, mapping("Observation")["codes"]
    status = mapped("Observation", "status", "corrected" if visit.supersedes_id else "recorded")
    for name, code in codes.items():
        value = getattr(visit, name)
        if value is None:
            continue
        key = derived_key(recorded.root_id, code["loinc"])
        body: Resource = {
            "resourceType": "Observation",
            "meta": {"profile": [code["profile"]]},
            "identifier": [business_identifier(key)],
            "status": status,
            **fixed("Observation"),
            "code": {
                "coding": [{"system": LOINC, "code": code["loinc"], "display": code["display"]}]
            },
            "subject": refer("Patient", records.patient.id),
            "encounter": refer("Encounter", recorded.root_id),
            "effectiveDateTime": visit.visited_on.isoformat(),
            "valueQuantity": _quantity(value, code["unit"]),
        }
        yield Outbound("Observation", key, body)


def goals(records: ReferralRecords, plan: PlanVersion, refer: Refer) -> list[Outbound]:
    measures = mapping("Goal")["measures"]
    published = []
    for place, goal in enumerate(plan.goals):
        key = derived_key(plan.referral_id, f"goal-{place}")
        target: Resource = {"dueDate": goal["target_date"]}
        if (measure := measures.get(goal["measure"])) is not None:
            target["measure"] = {"coding": [{"system": LOINC, "code": measure["loinc"]}]}
            target["detailQuantity"] = _quantity(goal["target"], measure["unit"])
        else:
            target["detailQuantity"] = {"value": goal["target"]}
        achieved = bool(goal.get("achieved"))
        body: Resource = {
            "resourceType": "Goal",
            **meta("Goal"),
            "identifier": [business_identifier(key)],
            "lifecycleStatus": "completed" if achieved else "active",
            "achievementStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                        "code": mapped("Goal", "achievement", achieved),
                    }
                ]
            },
            **fixed("Goal"),
            "description": {"text": goal["what"]},
            "subject": refer("Patient", records.patient.id),
            "startDate": plan.agreed_on.isoformat(),
            "target": [target],
        }
        published.append(Outbound("Goal", key, body))
    return published


def care_plan(
    records: ReferralRecords, plan: PlanVersion, goal_keys: list[uuid.UUID], refer: Refer
) -> Outbound:
    status = mapped("CarePlan", "status", records.referral.status)
    activity_status = {"active": "in-progress", "completed": "completed"}.get(status, "cancelled")
    activities = []
    for planned in plan.activities:
        detail: Resource = {
            "status": activity_status,
            "code": {"text": mapped("CarePlan", "intensity", planned["intensity"])},
            "description": planned["kind"],
            "scheduledTiming": {
                "repeat": {
                    "frequency": planned["frequency_per_week"],
                    "period": 1,
                    "periodUnit": "wk",
                    "duration": planned["minutes"],
                    "durationUnit": "min",
                }
            },
        }
        if planned.get("where"):
            detail["location"] = {"display": planned["where"]}
        activities.append({"detail": detail})
    body: Resource = {
        "resourceType": "CarePlan",
        **meta("CarePlan"),
        "identifier": [business_identifier(plan.referral_id)],
        "status": status,
        **fixed("CarePlan"),
        "title": "Liikuntasuunnitelma",
        "subject": refer("Patient", records.patient.id),
        "basedOn": [refer("ServiceRequest", plan.referral_id)],
        "created": plan.agreed_on.isoformat(),
        "period": {"start": plan.agreed_on.isoformat()},
        "author": _identified("practitioner", plan.author_subject, plan.author_name),
        "goal": [refer("Goal", key) for key in goal_keys],
        "activity": activities,
    }
    if plan.support_agreed:
        body["note"] = [{"text": plan.support_agreed}]
    return Outbound("CarePlan", plan.referral_id, body)


def diagnostic_report(records: ReferralRecords, outcome: Outcome, refer: Refer) -> Outbound:
    referral = records.referral
    body: Resource = {
        "resourceType": "DiagnosticReport",
        **meta("DiagnosticReport"),
        "identifier": [business_identifier(referral.id)],
        "basedOn": [refer("ServiceRequest", referral.id)],
        **fixed("DiagnosticReport"),
        "subject": refer("Patient", records.patient.id),
        "issued": _instant(referral.updated_at),
        "performer": [_service(records)],
        "conclusion": referral.outcome_summary,
    }
    first, last = outcome.first_assessment, outcome.last_assessment
    if first and last:
        body["effectivePeriod"] = {
            "start": first.visited_on.isoformat(),
            "end": last.visited_on.isoformat(),
        }
    results = [
        refer("Observation", derived_key(recorded.root_id, "82290-8"))
        for recorded in records.visits
        if recorded.visit.minutes_per_week is not None
        and (first and last)
        and recorded.visit.visited_on in (first.visited_on, last.visited_on)
    ]
    if results:
        body["result"] = results
    return Outbound("DiagnosticReport", referral.id, body)


def provenance(records: ReferralRecords, targets: list[Outbound], refer: Refer) -> Outbound:
    provenance_map = mapping("Provenance")
    key = derived_key(records.referral.id, "provenance")
    body: Resource = {
        "resourceType": "Provenance",
        "target": [refer(target.resource_type, target.key) for target in targets],
        "recorded": _instant(records.referral.updated_at),
        "agent": [
            {
                "type": provenance_map["custodian"]["type"],
                "who": _identified("organisation", records.region_code),
            },
            {"type": provenance_map["author"]["type"], "who": _service(records)},
        ],
    }
    return Outbound("Provenance", key, body)


def referral_set(records: ReferralRecords, refer: Refer) -> Iterator[Outbound]:
    """Everything about the referral, each resource after those it refers to. A generator: the
    publisher sends each before the next is built, so that `refer` knows where it went."""
    sent: list[Outbound] = []

    def emit(resource: Outbound) -> Outbound:
        sent.append(resource)
        return resource

    yield patient(records)
    yield emit(service_request(records, refer))
    for counsellor in {b.counsellor.id: b.counsellor for b in records.bookings}.values():
        yield emit(schedule(records, counsellor))
    for booking in records.bookings:
        yield emit(slot(booking, refer))
        yield emit(appointment(records, booking, refer))
    for recorded in records.visits:
        yield emit(encounter(records, recorded, refer))
        for observation in observations(records, recorded, refer):
            yield emit(observation)
    if records.plan is not None:
        goal_keys = []
        for goal in goals(records, records.plan, refer):
            goal_keys.append(goal.key)
            yield emit(goal)
        yield emit(care_plan(records, records.plan, goal_keys, refer))
    if records.outcome is not None and records.referral.outcome_summary:
        yield emit(diagnostic_report(records, records.outcome, refer))
    yield emit(task(records, refer))
    yield provenance(records, sent, refer)
