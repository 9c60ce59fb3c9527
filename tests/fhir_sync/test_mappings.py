"""The mapping files, the resources built from them and the golden examples agree; every resource
is valid FHIR R4 (R4B models) and conforms to the profiles it claims (`tests/fixtures/
conformance.py`, whose own tests are `test_conformance.py`).

Run this file as a script to rewrite the golden examples after a deliberate mapping change;
review the diff like code.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhir.resources.R4B import get_fhir_model_class

from app.classifications.avohilmo import occupation
from app.fhir_sync.mappings import MAPPINGS_DIR, mapped
from app.fhir_sync.parts import named_key
from app.fhir_sync.resources import Outbound, referral_set
from app.kit.clock import to_helsinki
from app.referrals.states import Status
from tests.fixtures.conformance import violations
from tests.fixtures.fhir_scene import HETU, refer, scene

EXAMPLES = MAPPINGS_DIR / "examples"

# Invariants of the base specification no profile Askel claims leans on, which a generic model
# check does not run; the profiles' own (and the base ones they rely on) are in the rule files.
INVARIANTS: dict[str, list[tuple[str, str]]] = {
    "Appointment": [
        ("app-2", "start.exists() = end.exists()"),
        ("app-3", "(start.exists() and end.exists()) or (status in ('proposed' | 'cancelled' | "
                  "'waitlist'))"),
    ],
    "Observation": [("obs-6", "dataAbsentReason.empty() or value.empty()")],
}  # fmt: skip


def _named(resources: Iterable[Outbound]) -> dict[str, Outbound]:
    """`Kind-n.json` for the n-th resource of a kind in publishing order."""
    seen: Counter[str] = Counter()
    named = {}
    for resource in resources:
        seen[resource.resource_type] += 1
        named[f"{resource.resource_type}-{seen[resource.resource_type]}.json"] = resource
    return named


def _as_json(body: dict[str, Any]) -> Any:
    return json.loads(json.dumps(body, ensure_ascii=False))


def test_the_golden_examples_are_what_is_built() -> None:
    built = _named(referral_set(scene(), refer))
    on_disk = {path.name for path in EXAMPLES.glob("*.json")}
    assert on_disk == set(built), "run this file as a script to rewrite the examples"
    for name, resource in built.items():
        assert json.loads((EXAMPLES / name).read_text()) == _as_json(resource.body), name


def _validate(body: dict[str, Any]) -> None:
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    for name, expression in INVARIANTS.get(body["resourceType"], []):
        assert fhirpathpy.evaluate(body, expression) == [True], (body["resourceType"], name)
    assert violations(body) == [], body["resourceType"]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_gives_valid_resources(status: Status) -> None:
    records = scene()
    records.referral.status = status.value
    for resource in referral_set(records, refer):
        _validate(resource.body)


@pytest.mark.parametrize("appointment_status", ["booked", "cancelled", "attended", "no_show"])
def test_every_appointment_status_gives_a_valid_appointment(appointment_status: str) -> None:
    records = scene()
    booked = records.bookings[0].appointment
    booked.status, booked.cancelled_by = appointment_status, "patient"
    for resource in referral_set(records, refer):
        _validate(resource.body)


def test_an_open_referral_has_no_report_and_no_output() -> None:
    records = dataclasses.replace(scene(), outcome=None, plan=None, visits=[])
    records.referral.status, records.referral.outcome_summary = "accepted", None
    kinds = Counter(resource.resource_type for resource in referral_set(records, refer))
    assert "DiagnosticReport" not in kinds
    task = next(r for r in referral_set(records, refer) if r.resource_type == "Task")
    assert "output" not in task.body
    assert "statusReason" not in task.body


def _scene_values() -> dict[str, dict[str, Any]]:
    """For each kind, the scene's value of every Askel field the mapping files name."""
    records = scene()
    referral, booking, plan = records.referral, records.bookings[0], records.plan
    assert plan is not None
    last = records.visits[-1]
    referrer = named_key("practitioner", referral.referrer_subject)
    referral_values = {
        "id": referral.id,
        "status": referral.status,
        "urgency": referral.urgency,
        "reason_codes.code": [code["code"] for code in referral.reason_codes],
        "reason_text": referral.reason_text,
        "goal": referral.goal,
        "exercise_restrictions": referral.exercise_restrictions,
        "created_at": referral.created_at,
        "referrer_name": referral.referrer_name,
        "service.code": records.service.code,
        "service.name_fi": records.service.name_fi,
        "service": f"Organization/{records.service.id}",
        "patient": f"Patient/{records.patient.id}",
        "referrer": f"Practitioner/{referrer}",
        "status_reason_text": referral.status_reason_text,
        "updated_at": referral.updated_at,
        "referrer_organisation": referral.referrer_organisation,
        # The registers' OIDs, as the OID URNs FinnishBase gives them.
        "service.oid": f"urn:oid:{records.service.oid}",
        "referrer_organisation_oid": f"urn:oid:{records.referrer_organisation_oid}",
    }
    return {
        "Patient": {"hetu": HETU, "family_name": records.patient.family_name,
                    "given_name": records.patient.given_name,
                    "birth_date": records.patient.birth_date, "sex": records.patient.sex,
                    "language": records.patient.language},
        "ServiceRequest": referral_values,
        "Task": referral_values,
        "Organization": referral_values,
        "Practitioner": {"referrer_subject": referral.referrer_subject,
                         "referrer_name": referral.referrer_name,
                         "register_numbers": records.register_numbers[referral.referrer_subject],
                         "professions": [
                             occupation(profession).code  # type: ignore[union-attr]
                             for profession in records.professions.values()
                         ],
                         "counsellor.username": booking.counsellor.username},
        "Schedule": {"counsellor.id": booking.counsellor.id,
                     "counsellor.username": booking.counsellor.username,
                     "counsellor.display_name": booking.counsellor.display_name},
        "Slot": {"slot.id": booking.slot.id, "slot.full": True,
                 "slot.start_at": booking.slot.start_at, "slot.end_at": booking.slot.end_at},
        "Appointment": {**{key: getattr(booking.appointment, key) for key in
                           ("id", "status", "start_at", "end_at", "visit_type", "location")},
                        "referral_id": str(referral.id)},
        "Encounter": {"root_id": last.root_id, "contact_type": last.visit.contact_type,
                      "visited_on": last.visit.visited_on,
                      "duration_minutes": last.visit.duration_minutes,
                      "counsellor_name": last.visit.counsellor_name},
        "Observation": {"minutes_per_week": last.visit.minutes_per_week,
                        "visited_on": last.visit.visited_on},
        "CarePlan": {"referral_id": referral.id, "agreed_on": plan.agreed_on,
                     "support_agreed": plan.support_agreed, "author_subject": plan.author_subject,
                     "activities.kind": [a["kind"] for a in plan.activities]},
        "Goal": {"goals.what": plan.goals[-1]["what"], "goals.target": plan.goals[-1]["target"],
                 "goals.target_date": plan.goals[-1]["target_date"]},
        "DiagnosticReport": {"referral_id": referral.id,
                             "outcome_summary": referral.outcome_summary},
        "Provenance": {"custodian_id": records.custodian_id,
                       "service.name_fi": records.service.name_fi},
    }  # fmt: skip


def _fhir_form(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_helsinki(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    return f"urn:uuid:{value}" if len(str(value)) == 36 else str(value)


MAPPING_FILES = sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml") if p.stem != "common")


@pytest.mark.parametrize("kind", MAPPING_FILES)
def test_each_field_row_says_where_the_value_is(kind: str) -> None:
    rows = tomllib.loads((MAPPINGS_DIR / f"{kind}.toml").read_text())["fields"]
    # The last resource of the kind in the scene (for observations, the last visit's).
    built = [r.body for r in referral_set(scene(), refer) if r.resource_type == kind]
    values = _scene_values()[kind]
    for row in rows:
        expected = values[row["askel"]]
        expected = expected if isinstance(expected, list) else [expected]
        if "map" in row:
            expected = [mapped(kind, row["map"], value) for value in expected]
        found = [value for body in built for value in fhirpathpy.evaluate(body, row["fhir"])]
        wanted = [_fhir_form(value) for value in expected]
        assert wanted, row
        assert all(value in found for value in wanted), (row, found)


def test_each_kind_claims_its_profile() -> None:
    for resource in referral_set(scene(), refer):
        kind = tomllib.loads((MAPPINGS_DIR / f"{resource.resource_type}.toml").read_text())
        if "profile" in kind:
            assert resource.body["meta"]["profile"] == [kind["profile"]]


def _published_patient(security_prohibition: bool) -> dict[str, Any]:
    records = scene()
    records.patient.security_prohibition = security_prohibition
    return next(r.body for r in referral_set(records, refer) if r.resource_type == "Patient")


def test_a_patient_with_a_security_prohibition_carries_finnish_bases_label() -> None:
    body = _published_patient(True)
    _validate(body)
    assert body["meta"]["profile"] == [
        "https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/fi-base-patient"
    ]
    system = "https://hl7.fi/fhir/finnish-base-profiles/CodeSystem/fi-base-security-label-cs"
    assert body["meta"]["security"] == [
        {"system": system, "code": "TURVAKIELTO", "display": "Turvakielto"}
    ]
    label = f"Patient.meta.security.where(system = '{system}').code"
    assert fhirpathpy.evaluate(body, label) == ["TURVAKIELTO"]


def test_a_patient_without_one_carries_no_security_label() -> None:
    body = _published_patient(False)
    assert "security" not in body["meta"]
    assert body == json.loads((EXAMPLES / "Patient-1.json").read_text())


@pytest.mark.parametrize("sex", ["female", "male", "other", "unknown"])
def test_the_published_gender_is_the_sex_askel_recorded(sex: str) -> None:
    """Whatever the identity code's individual number tells, the Patient says
    the sex as recorded, unknown and other included, and stays valid FHIR."""
    records = scene()
    records.patient.sex = sex
    body = next(r.body for r in referral_set(records, refer) if r.resource_type == "Patient")
    _validate(body)
    assert body["gender"] == sex


def _rewrite(write: Callable[[Path, str], None]) -> None:
    for stale in EXAMPLES.glob("*.json"):
        stale.unlink()
    for name, resource in _named(referral_set(scene(), refer)).items():
        text = json.dumps(resource.body, ensure_ascii=False, indent=2) + "\n"
        write(EXAMPLES / name, text)


if __name__ == "__main__":
    _rewrite(lambda path, text: path.write_text(text, encoding="utf-8"))
    sys.exit(0)
