"""A referral and everything recorded for it, as the FHIR R4 resources the region receives.

The codes, systems, profiles and value maps come from `fhir_mappings/`; this module only puts
Askel's values in their places. References to other resources go through `refer`, which the
publisher answers with the id each one has on the region's server. The records and the small
pieces are in `parts.py`, the organisations and practitioners in `parties.py`, the counselling's
content in `care.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.access.models import User
from app.classifications.avohilmo import classify
from app.classifications.contact_modes import participation_mode
from app.fhir_sync.care import care_plan, diagnostic_report, goals, observations
from app.fhir_sync.mappings import fixed, mapped, mapping, meta, system
from app.fhir_sync.parties import parties
from app.fhir_sync.parts import (
    Booking,
    Outbound,
    RecordedVisit,
    Refer,
    ReferralRecords,
    Resource,
    business_identifier,
    coding,
    derived_key,
    identifier,
    instant,
    named_key,
    physical_activity,
    practitioner_reference,
    quantity,
    service_reference,
)

__all__ = [
    "Booking",
    "Outbound",
    "RecordedVisit",
    "Refer",
    "ReferralRecords",
    "Resource",
    "business_identifier",
    "derived_key",
    "referral_set",
]

STATUS_REASON_REQUIRED = frozenset({"rejected", "on-hold", "cancelled", "failed"})


def patient(records: ReferralRecords) -> Outbound:
    """The patient as FinnishBase's fi-base-patient, with its turvakielto label when they have a
    security prohibition (`Patient.toml`, `[security_label]`)."""
    person, patient_map = records.patient, mapping("Patient")
    body: Resource = {
        "resourceType": "Patient",
        **meta("Patient"),
        "identifier": _patient_identifiers(records),
        "name": [{"family": person.family_name, "given": [person.given_name]}],
        "gender": mapped("Patient", "gender", person.sex),
        "birthDate": person.birth_date.isoformat(),
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": person.language}]}}
        ],
    }
    if person.security_prohibition:
        label = coding(patient_map["security_label"])
        body["meta"] = {**body.get("meta", {}), "security": [label]}
    return Outbound("Patient", person.id, body)


def _patient_identifiers(records: ReferralRecords) -> list[Resource]:
    """The identity code (official); the region's temporary identifier, in use until the code
    arrives and kept as an old one after it."""
    identifiers: list[Resource] = []
    if records.hetu is not None:
        hetu = {**mapping("Patient")["hetu_identifier"], "system": system("hetu")}
        identifiers.append({**hetu, "value": records.hetu})
    if (temporary := records.temporary_id) is not None:
        use = "old" if records.hetu is not None else "temp"
        identifiers.append({"use": use, "system": temporary.system, "value": temporary.value})
    return identifiers


def service_request(records: ReferralRecords, refer: Refer) -> Outbound:
    """The referral as a PA ServiceRequest: the referrer and the service by literal reference
    only (the IG reserves identifiers there for US NPIs), the referrer as each note's author."""
    referral = records.referral
    referrer = practitioner_reference(
        refer, referral.referrer_subject, referral.referrer_name, identified=False
    )
    authored = instant(referral.created_at)
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
        "category": [physical_activity()],
        "code": {"coding": [coding(mapping("common")["counselling"])]},
        "priority": mapped("ServiceRequest", "priority", referral.urgency),
        "subject": refer("Patient", records.patient.id),
        "authoredOn": authored,
        "requester": referrer,
        "performer": [service_reference(records, refer, identified=False)],
        "reasonCode": [
            {
                "coding": [
                    {"system": reason_systems[code["system"]], "code": code["code"]}
                    for code in referral.reason_codes
                ],
                "text": referral.reason_text,
            }
        ],
        "note": [
            {"id": note["id"], "authorReference": referrer, "time": authored, "text": note["text"]}
            for note in notes
        ],
    }
    return Outbound("ServiceRequest", referral.id, body)


def _referrer_organisation(records: ReferralRecords, refer: Refer) -> Resource:
    code = records.referral.referrer_organisation
    reference = refer("Organization", named_key("organisation", code))
    return {**reference, "identifier": identifier("organisation", code)}


def task(records: ReferralRecords, refer: Refer) -> Outbound:
    referral, task_map = records.referral, mapping("Task")
    status = mapped("Task", "status", referral.status)
    business_status = task_map["business_status"]
    # The referral's row is written a moment before its first update stamp: never before it.
    modified = max(referral.created_at, referral.updated_at)
    body: Resource = {
        "resourceType": "Task",
        **meta("Task"),
        "identifier": [business_identifier(referral.id)],
        "status": status,
        "businessStatus": {
            "coding": [{"system": business_status["system"], "code": referral.status}],
            "text": referral.status_reason_text or business_status["text"][referral.status],
        },
        **fixed("Task"),
        "priority": mapped("ServiceRequest", "priority", referral.urgency),
        "focus": refer("ServiceRequest", referral.id),
        "for": refer("Patient", records.patient.id),
        "authoredOn": instant(referral.created_at),
        "lastModified": instant(modified),
        "requester": _referrer_organisation(records, refer),
        "owner": service_reference(records, refer),
    }
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


def _counsellor(counsellor: User, refer: Refer) -> Resource:
    return practitioner_reference(refer, counsellor.username, counsellor.display_name)


def schedule(records: ReferralRecords, counsellor: User, refer: Refer) -> Outbound:
    body: Resource = {
        "resourceType": "Schedule",
        **meta("Schedule"),
        "identifier": [business_identifier(counsellor.id)],
        **fixed("Schedule"),
        "actor": [_counsellor(counsellor, refer)],
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
        "start": instant(booked.start_at),
        "end": instant(booked.end_at),
    }
    return Outbound("Slot", booked.id, body)


def _coded(entry: dict[str, object]) -> Resource:
    """A CodeableConcept from a mapping entry: its codings (there may be none) and its text."""
    concept: Resource = {"text": entry["text"]}
    codings = entry.get("codings") or []
    if codings:
        concept["coding"] = codings
    return concept


def appointment(records: ReferralRecords, booking: Booking, refer: Refer) -> Outbound:
    booked, counsellor = booking.appointment, booking.counsellor
    appointment_map = mapping("Appointment")
    body: Resource = {
        "resourceType": "Appointment",
        **meta("Appointment"),
        "identifier": [business_identifier(booked.id)],
        "extension": [
            {"url": appointment_map["referral_id"]["url"], "valueString": str(booked.referral_id)}
        ],
        "status": mapped("Appointment", "status", booked.status),
        "serviceType": [_coded(appointment_map["service_type"])],
        "appointmentType": {"text": mapped("Appointment", "visit_type", booked.visit_type)},
        "start": instant(booked.start_at),
        "end": instant(booked.end_at),
        "minutesDuration": int((booked.end_at - booked.start_at).total_seconds() // 60),
        "slot": [refer("Slot", booked.slot_id)],
        "basedOn": [refer("ServiceRequest", booked.referral_id)],
        "participant": [
            {"actor": refer("Patient", records.patient.id), "status": "accepted"},
            {"actor": _counsellor(counsellor, refer), "status": "accepted"},
            {"actor": {"display": booked.location}, "status": "accepted"},
        ],
    }
    if appointment_map["service_category"].get("codings"):
        body["serviceCategory"] = [_coded(appointment_map["service_category"])]
    if booked.status == "cancelled" and booked.cancelled_by:
        reason = appointment_map["cancellation_reason"]
        body["cancelationReason"] = _coded(reason[booked.cancelled_by])
    return Outbound("Appointment", booked.id, body)


def _classifications(records: ReferralRecords, recorded: RecordedVisit) -> list[Resource]:
    """THL's contact type, service class, procedure (SPAT) and the visit's nature, one concept
    each, and HL7's participation mode, which tells a phone call from a video meeting (THL's
    contact type counts both as real-time remote contact). The counsellor's occupational class
    is their Practitioner's qualification."""
    visit = recorded.visit
    first = bool(records.visits) and records.visits[0].root_id == recorded.root_id
    codes = classify(visit.contact_type, visit.counsellor_profession, first)
    coded = [{"coding": [code.coding()]} for code in (codes.contact_type, codes.service_class,
                                                     codes.procedure, codes.nature)]  # fmt: skip
    return [*coded, {"coding": [participation_mode(visit.contact_type)]}]


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
        # Phone and video share the class (virtual); the participation mode tells them apart.
        # With it, the classifications Avohilmo reports the visit by.
        "type": [*fixed("Encounter")["type"], *_classifications(records, recorded)],
        "subject": refer("Patient", records.patient.id),
        "basedOn": [refer("ServiceRequest", visit.referral_id)],
        "participant": [
            {
                "individual": practitioner_reference(
                    refer, visit.counsellor_subject, visit.counsellor_name
                )
            }
        ],
        "period": {"start": visit.visited_on.isoformat()},
        "length": quantity(visit.duration_minutes, "min"),
        "serviceProvider": service_reference(records, refer),
    }
    if visit.appointment_id:
        body["appointment"] = [refer("Appointment", visit.appointment_id)]
    return Outbound("Encounter", recorded.root_id, body)


def _custodian(records: ReferralRecords) -> Resource:
    """The region as FinnishBase's information custodian where its register ID is known; by
    Askel's own code for it otherwise."""
    custodian_map = mapping("Provenance")["custodian"]
    if records.custodian_id is None:
        who = {
            "type": "Organization",
            "identifier": identifier("organisation", records.region_code),
        }
        return {"type": custodian_map["type"], "who": who}
    return {
        "type": custodian_map["type"],
        "role": [custodian_map["role"]],
        "who": {
            "type": "Organization",
            "identifier": {**custodian_map["identifier"], "value": records.custodian_id},
        },
    }


def provenance(records: ReferralRecords, targets: list[Outbound], refer: Refer) -> Outbound:
    """Who wrote the set (the service) and who holds it (the region); FinnishBase's profile is
    claimed only where the region's register ID is configured."""
    provenance_map = mapping("Provenance")
    claimed = records.custodian_id is not None
    key = derived_key(records.referral.id, "provenance")
    author = service_reference(records, refer, identified=False)
    body: Resource = {
        "resourceType": "Provenance",
        **(meta("Provenance") if claimed else {}),
        "target": [refer(target.resource_type, target.key) for target in targets],
        "recorded": instant(records.referral.updated_at),
        "agent": [_custodian(records), {"type": provenance_map["author"]["type"], "who": author}],
    }
    if claimed:
        body["entity"] = [provenance_map["register"]]
    return Outbound("Provenance", key, body)


def referral_set(records: ReferralRecords, refer: Refer) -> Iterator[Outbound]:
    """Everything about the referral, each resource after those it refers to. A generator: the
    publisher sends each before the next is built, so that `refer` knows where it went."""
    sent: list[Outbound] = []

    def emit(resource: Outbound) -> Outbound:
        sent.append(resource)
        return resource

    yield patient(records)
    # Shared with other referrals and no record of this one: not among the Provenance's targets.
    yield from parties(records)
    yield emit(service_request(records, refer))
    for counsellor in {b.counsellor.id: b.counsellor for b in records.bookings}.values():
        yield emit(schedule(records, counsellor, refer))
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
