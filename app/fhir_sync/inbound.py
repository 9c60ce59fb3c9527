"""Referrals the region's patient system sends as FHIR: a ServiceRequest on its own (for a
patient Askel knows), or a transaction bundle with the Patient, the ServiceRequest and its Task.

Each becomes an ordinary Askel referral, sent in the requesting clinician's name; the region's
identifier on the ServiceRequest makes a resend return the referral made the first time. A
bundle is applied in one database transaction: all of it, or nothing.

The Patient is read by `patient_from_fhir`, the one mapping of the region's chart to an Askel
patient (a clinician's launch from the chart reads it the same way), and found or registered by
`patients.service.find_or_register`.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.access import repository as accounts
from app.access.principal import Principal, Role
from app.access.service import resolve_account
from app.errors import RULES, NotFound
from app.fhir_sync.exceptions import InvalidFhirResource, UnknownRequester, UnregisteredPatient
from app.fhir_sync.mappings import mapping, system
from app.organisations import service as organisations
from app.patients import service as patient_service
from app.patients.models import Patient
from app.patients.phones import to_e164
from app.patients.schemas import PatientCreate, PatientIdentify
from app.patients.temporary_ids import is_temporary_system
from app.referrals import events as referral_events
from app.referrals import repository as referrals
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.referrals.schemas import ReferralCreate

Resource = dict[str, Any]
Schema = TypeVar("Schema", bound=BaseModel)


def _valid(body: Any, resource_type: str) -> Resource:
    """Structurally valid R4 of the expected type; the reason names the place, not the value."""
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        raise InvalidFhirResource(reason=f"a {resource_type} is expected")
    try:
        get_fhir_model_class(resource_type).model_validate(body)
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        raise InvalidFhirResource(reason=f"{resource_type}.{where}") from error
    return body


def _schema(schema: type[Schema], data: dict[str, Any], resource_type: str) -> Schema:
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        raise InvalidFhirResource(reason=f"{resource_type}: {where}") from error


def _identifier_of(resource: Resource, wanted_system: str | None = None) -> str | None:
    for identifier in resource.get("identifier", []):
        wanted = wanted_system is None or identifier.get("system") == wanted_system
        if wanted and identifier.get("value"):
            return f"{identifier.get('system', '')}|{identifier['value']}"
    return None


def _requester(session: Session, integration: Principal, request: Resource) -> Principal:
    """The clinician in whose name the referral is sent: an active account of the same issuer,
    named by its account name or by the professional's Terhikki number."""
    identifier = request.get("requester", {}).get("identifier", {})
    named_by, value = identifier.get("system"), identifier.get("value")
    if not value:
        raise UnknownRequester()
    if named_by == system("practitioner"):
        found = accounts.active_user_with_organisation(session, integration.issuer, value)
    elif named_by == system("terhikki"):
        found = accounts.active_user_by_register_number(session, integration.issuer, value)
    else:
        raise UnknownRequester()
    if found is None:
        raise UnknownRequester()
    user, organisation = found
    claimed = Principal(
        subject=user.username,
        organisation=organisation.code,
        roles=frozenset({Role.clinician}),
        issuer=integration.issuer,
        token_id=integration.token_id,
    )
    return resolve_account(session, claimed)


def _note(request: Resource, note_id: str) -> str | None:
    return next((n.get("text") for n in request.get("note", []) if n.get("id") == note_id), None)


def coded_reasons(concepts: list[Resource]) -> list[dict[str, Any]]:
    """The ICD-10 and ICPC-2 codings among coded concepts, with Askel's names of their systems."""
    systems = mapping("ServiceRequest")["inbound"]["reason_system"]
    return [
        {"system": systems[coding["system"]], "code": coding.get("code")}
        for concept in concepts
        for coding in concept.get("coding", [])
        if coding.get("system") in systems
    ]


def reasons_from_conditions(bundle: Any) -> list[dict[str, Any]]:
    """The chart's active conditions (a search's bundle) as coded reasons, each once, in the
    bundle's order; anything else in the bundle is passed over."""
    found: list[dict[str, Any]] = []
    entries = bundle.get("entry", []) if isinstance(bundle, dict) else []
    for entry in entries:
        condition = entry.get("resource", {}) if isinstance(entry, dict) else {}
        if not isinstance(condition, dict) or condition.get("resourceType") != "Condition":
            continue
        status = {coding.get("code") for coding in
                  condition.get("clinicalStatus", {}).get("coding", [])}  # fmt: skip
        if status and "active" not in status:
            continue
        for reason in coded_reasons([condition.get("code", {})]):
            if isinstance(reason["code"], str) and reason not in found:
                found.append(reason)
    return found


def _referral_data(
    session: Session, request: Resource, patient_id: uuid.UUID, language: str
) -> ReferralCreate:
    inbound = mapping("ServiceRequest")["inbound"]
    reasons = request.get("reasonCode", [{}])
    codes = coded_reasons(reasons)
    consent = any(
        extension.get("url") == inbound["consent_extension"] and extension.get("valueBoolean")
        for extension in request.get("extension", [])
    )
    performer = next(
        (p["identifier"]["value"] for p in request.get("performer", [])
         if p.get("identifier", {}).get("system") == system("service")),
        None,
    )  # fmt: skip
    data = {
        "patient_id": patient_id,
        "reason_codes": codes,
        "reason_text": reasons[0].get("text"),
        "goal": _note(request, inbound["goal_note"]),
        "exercise_restrictions": _note(request, inbound["restrictions_note"]),
        "urgency": inbound["priority"].get(request.get("priority", "routine"), "routine"),
        "preferred_language": language,
        "consent_to_counselling": consent,
    }
    if performer is not None:
        service = organisations.by_code(session, performer)
        if service is None:
            raise InvalidFhirResource(reason="ServiceRequest.performer names no known service")
        data["service_id"] = service.id
    return _schema(ReferralCreate, data, "ServiceRequest")


def _patient_by_hetu(session: Session, integration: Principal, hetu: str) -> Patient:
    """The registered patient (the look-up is audited like any other)."""
    try:
        return patient_service.lookup(session, integration, hetu)
    except NotFound:
        raise UnregisteredPatient() from None


def receive_service_request(
    session: Session, integration: Principal, body: Any, patient_id: uuid.UUID | None = None
) -> tuple[Referral, bool]:
    """The referral for the ServiceRequest, and whether it was made now (False: a resend)."""
    request = _valid(body, "ServiceRequest")
    if request.get("status") != "active":
        raise InvalidFhirResource(reason="ServiceRequest.status must be active")
    source = _identifier_of(request)
    if source is None:
        raise InvalidFhirResource(reason="ServiceRequest.identifier is required")
    if (existing := referrals.by_source_identifier(session, source)) is not None:
        referral_service.record_replay(session, integration, existing.id, existing.patient_id)
        return existing, False
    if patient_id is None:
        subject = request.get("subject", {}).get("identifier", {})
        if subject.get("system") != system("hetu") or not subject.get("value"):
            raise UnregisteredPatient()
        patient = _patient_by_hetu(session, integration, subject["value"])
    else:
        found = session.get(Patient, patient_id)
        assert found is not None
        patient = found
    requester = _requester(session, integration, request)
    data = _referral_data(session, request, patient.id, patient.language)
    referral = referral_service.send(session, requester, data)
    referral.source_identifier = source
    session.flush()
    return referral, True


def _name(resource: Resource) -> Resource:
    names = resource.get("name", [])
    return next((n for n in names if n.get("use") == "official"), names[0] if names else {})


def _municipality(resource: Resource) -> str | None:
    """The home municipality: FinnishBase puts the extension on the Patient; earlier senders put
    it on an address, where it is read as well."""
    inbound = mapping("Patient")["inbound"]
    extensions = [
        *resource.get("extension", []),
        *(ext for address in resource.get("address", []) for ext in address.get("extension", [])),
    ]
    return next(
        (ext.get("valueCoding", {}).get("code") for ext in extensions
         if ext.get("url") == inbound["municipality_extension"]
         and ext.get("valueCoding", {}).get("system", inbound["municipality_system"])
         == inbound["municipality_system"]),
        None,
    )  # fmt: skip


def _language(resource: Resource) -> str:
    """The preferred language first, else the first stated; its primary subtag (`sv-FI`: sv)."""
    spoken = sorted(resource.get("communication", []), key=lambda item: not item.get("preferred"))
    code = next(
        (coding.get("code") for item in spoken
         for coding in item.get("language", {}).get("coding", []) if coding.get("code")),
        "fi",
    )  # fmt: skip
    return str(code).split("-")[0].lower()


def _phone(resource: Resource) -> str | None:
    """The first mobile, else home (else unstated) phone that reads as a number; a number that
    does not is passed over, the patient's other details still count."""
    uses: list[str] = mapping("Patient")["inbound"]["phone_uses"]
    phones = [
        point for point in resource.get("telecom", [])
        if point.get("system") == "phone" and point.get("use", "") in uses and point.get("value")
    ]  # fmt: skip
    # Within a use, the lowest rank first and the unranked last (rank 1 is the most preferred).
    phones.sort(key=lambda point: (uses.index(point.get("use", "")), point.get("rank") or 2**31))
    return next((n for point in phones if (n := to_e164(point["value"])) is not None), None)


def _security_prohibition(resource: Resource) -> bool:
    label = mapping("Patient")["security_label"]
    # The guide's code system is case-insensitive.
    return any(
        coding.get("system") == label["system"]
        and str(coding.get("code", "")).upper() == label["code"]
        for coding in resource.get("meta", {}).get("security", [])
    )


def patient_from_fhir(resource: Any) -> PatientCreate:
    """An R4 Patient (FinnishBase fi-base-patient) as Askel registers a patient: the identity
    code, official name, recorded gender, home municipality, language, phone and the turvakielto
    label. Invalid
    FHIR or a missing or unfitting value is InvalidFhirResource naming the place, never the
    value."""
    patient = _valid(resource, "Patient")
    hetu = _identifier_of(patient, system("hetu"))
    name = _name(patient)
    temporary = next(
        (
            {"system": i["system"], "value": i.get("value")}
            for i in patient.get("identifier", [])
            if is_temporary_system(i.get("system", ""))
        ),
        None,
    )
    data = {
        "hetu": hetu.partition("|")[2] if hetu else None,
        "temporary_id": temporary,
        # Given by the code where there is one; read from the resource only without it.
        "birth_date": None if hetu else patient.get("birthDate"),
        "given_name": " ".join(name.get("given", [])) or None,
        "family_name": name.get("family"),
        "home_municipality_code": _municipality(patient),
        # As the record has it: the identity code no longer tells the sex (FHIR's own codes).
        "sex": patient.get("gender") or "unknown",
        "language": _language(patient),
        "phone": _phone(patient),
        "security_prohibition": _security_prohibition(patient),
    }
    try:
        return PatientCreate.model_validate(data)
    except ValidationError as error:
        places = {
            **{row["askel"]: row["fhir"] for row in mapping("Patient")["fields"]},
            **mapping("Patient")["inbound"]["places"],
        }
        first = error.errors()[0]
        # A rule over the whole resource names its field in its context, not in its location.
        field = str(first["loc"][0]) if first["loc"] else _rule_field(first["type"])
        raise InvalidFhirResource(reason=places.get(field, f"Patient ({field})")) from error


def _rule_field(code: str) -> str:
    rule = RULES.get(code)
    return rule.field if rule is not None and rule.field else "identifier"


def patient_for(
    session: Session, integration: Principal, resource: Resource
) -> tuple[uuid.UUID, bool]:
    """The bundle's patient, found by identity code or temporary identifier, or registered from
    the resource; and whether they were registered now. A patient known by the temporary
    identifier alone whose resource now carries their code takes it (`POST
    /patients/identify`'s work)."""
    data = patient_from_fhir(resource)
    patient, registered = patient_service.find_or_register(session, integration, data)
    if data.hetu is not None and data.temporary_id is not None and patient.hetu_hash is None:
        arrived = PatientIdentify(temporary_id=data.temporary_id, hetu=data.hetu)
        identified = patient_service.identify(session, integration, arrived)
        merged = identified.merged is not None
        referral_events.patient_identified(
            session, integration, identified.patient.id, merged=merged
        )
        return identified.patient.id, registered
    return patient.id, registered


def receive_bundle(session: Session, integration: Principal, body: Any) -> Resource:
    """A transaction bundle with a Patient and a ServiceRequest (its Task is the region's own
    record of the request and is acknowledged, not stored); a transaction-response bundle."""
    bundle = _valid(body, "Bundle")
    if bundle.get("type") != "transaction":
        raise InvalidFhirResource(reason="Bundle.type must be transaction")
    entries = bundle.get("entry", [])
    by_type: dict[str, list[Resource]] = {}
    for entry in entries:
        resource = entry.get("resource", {})
        by_type.setdefault(resource.get("resourceType", ""), []).append(entry)
    if len(by_type.get("ServiceRequest", [])) != 1 or len(by_type.get("Patient", [])) > 1:
        raise InvalidFhirResource(reason="one ServiceRequest and at most one Patient are expected")
    request_entry = by_type["ServiceRequest"][0]
    patient_id, registered = None, False
    if patient_entries := by_type.get("Patient"):
        reference = request_entry["resource"].get("subject", {}).get("reference")
        if reference != patient_entries[0].get("fullUrl"):
            raise InvalidFhirResource(reason="ServiceRequest.subject must refer to the Patient")
        patient_id, registered = patient_for(session, integration, patient_entries[0]["resource"])
    referral, created = receive_service_request(
        session, integration, request_entry["resource"], patient_id
    )
    responses = []
    for entry in entries:
        kind = entry.get("resource", {}).get("resourceType")
        location = {
            "ServiceRequest": f"ServiceRequest/{referral.id}",
            "Patient": f"Patient/{referral.patient_id}",
        }.get(kind)
        made_now = {"ServiceRequest": created, "Patient": registered}.get(kind, False)
        status = "201 Created" if made_now else "200 OK"
        responses.append(
            {"response": {"status": status, **({"location": location} if location else {})}}
        )
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": responses}
