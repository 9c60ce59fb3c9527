"""What Askel publishes is what it claims: every golden example conforms to each profile in its
`meta.profile`, checked by `tests/fixtures/conformance.py` against the rules transcribed in
`tests/fhir_sync/profiles/`; and the checker fails a resource that breaks a rule of each kind."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from app.fhir_sync.mappings import MAPPINGS_DIR
from tests.fixtures.conformance import CHECKS, PROFILES_DIR, definitions, violations

EXAMPLES = sorted((MAPPINGS_DIR / "examples").glob("*.json"))
RULE_FILES = sorted(PROFILES_DIR.glob("*.json"))
PA = "http://hl7.org/fhir/us/physical-activity/StructureDefinition/"
FS = "https://hl7.fi/fhir/finnish-scheduling/StructureDefinition/"
Resource = dict[str, Any]


def _example(name: str) -> Resource:
    body: Resource = json.loads((MAPPINGS_DIR / "examples" / f"{name}.json").read_text())
    return body


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_golden_example_conforms_to_what_it_claims(path: Path) -> None:
    body = json.loads(path.read_text())
    assert violations(body) == []


def test_every_example_claims_a_profile() -> None:
    # The scene configures the custodian, so its Provenance claims FinnishBase's too.
    unclaimed = [path.stem for path in EXAMPLES if not json.loads(path.read_text()).get("meta")]
    assert unclaimed == []


@pytest.mark.parametrize("path", RULE_FILES, ids=[path.stem for path in RULE_FILES])
def test_each_rule_file_names_its_source_and_its_rules_are_fhirpath(path: Path) -> None:
    definition = json.loads(path.read_text())
    assert definition["url"].endswith(f"/StructureDefinition/{path.stem}")
    assert definition["id"] == path.stem
    assert definition["parent"] is None or definition["parent"] in definitions()
    for source in definition["source"]:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", source["repo"])
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
        assert source["path"]
    assert definition["rules"]
    for rule in definition["rules"]:
        assert rule["kind"] in CHECKS, rule
        expressions = [rule["path"], f"{rule['path']}.select({rule.get('element', '$this')})"]
        if "match" in rule:
            expressions.append(f"{rule['path']}.select({rule['element']}).where({rule['match']})")
        if "expression" in rule:
            expressions.append(f"{rule['path']}.select({rule['expression']})")
        for expression in expressions:
            fhirpathpy.compile(expression, models["r4"])


# A profile claimed without a definition, or one that cannot be claimed.


def test_a_profile_without_a_definition_cannot_be_claimed() -> None:
    slot = _example("Slot-1")
    gone = f"{FS}fi-scheduling-slot"  # Finnish Scheduling 2.0 no longer defines it
    slot["meta"]["profile"] = [gone]
    assert violations(slot) == [f"{gone}: claimed, but no definition of this profile exists"]


def test_an_abstract_profile_cannot_be_claimed() -> None:
    observation = _example("Observation-1")
    observation["meta"]["profile"] = [f"{PA}pa-observation-evs"]
    assert violations(observation) == ["pa-observation-evs: claimed, but the profile is abstract"]


def test_a_profile_on_another_resource_type_cannot_be_claimed() -> None:
    goal = _example("Goal-1")
    goal["meta"]["profile"] = [f"{PA}pa-careplan"]
    assert violations(goal) == ["pa-careplan: a profile on CarePlan, claimed by a Goal"]


def test_what_is_not_valid_r4_is_a_violation() -> None:
    task = _example("Task-1")
    del task["intent"]
    [problem] = violations(task)
    assert problem.startswith("Task: not a valid FHIR R4 Task")
    assert "intent" in problem


# Each kind of rule, broken once. Each case: the example, how to break it, the violation.

Break = Callable[[Resource], None]


def _drop_business_status_text(task: Resource) -> None:
    del task["businessStatus"]["text"]


def _only_snomed_service_type(appointment: Resource) -> None:
    appointment["serviceType"] = [
        {"coding": [{"system": "http://snomed.info/sct", "code": "435551000124105"}]}
    ]


def _hl7_cancellation_reason(appointment: Resource) -> None:
    appointment["status"] = "cancelled"
    appointment["cancelationReason"] = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason",
                "code": "pat",
            }
        ]
    }


def _no_custodian_role(provenance: Resource) -> None:
    del provenance["agent"][0]["role"][0]["coding"]


def _author_identified(provenance: Resource) -> None:
    provenance["agent"][1]["who"]["identifier"] = {"system": "urn:askel:service", "value": "x"}


def _requester_by_identifier(request: Resource) -> None:
    request["requester"] = {"identifier": {"system": "urn:askel:user", "value": "doctor.laihia"}}


def _status_reason_when_completed(task: Resource) -> None:
    task["statusReason"] = {"text": "Tavoitteet saavutettu."}


def _modified_before_authored(task: Resource) -> None:
    task["lastModified"] = "2026-03-02T10:14:59+02:00"


def _target_without_measure(goal: Resource) -> None:
    del goal["target"][0]["measure"]


def _owner_a_healthcare_service(task: Resource) -> None:
    task["owner"]["reference"] = "HealthcareService/1"


def _value_as_text(observation: Resource) -> None:
    del observation["valueQuantity"]
    observation["valueString"] = "40 min/wk"


def _year_only(observation: Resource) -> None:
    observation["effectiveDateTime"] = "2026"


def _received_status(task: Resource) -> None:
    task["status"] = "received"


def _no_narrative(plan: Resource) -> None:
    del plan["text"]


def _no_assess_plan(plan: Resource) -> None:
    plan["category"] = plan["category"][1:]


def _owner_by_identifier_only(task: Resource) -> None:
    del task["owner"]["reference"]


def _referral_id_as_identifier(appointment: Resource) -> None:
    appointment["extension"][0] = {
        "url": f"{FS}referral-id",
        "valueIdentifier": {"value": "x"},
    }


BROKEN: list[tuple[str, str, Break, str]] = [
    ("cardinality", "Task-1", _drop_business_status_text,
     "pa-task-for-referral-management: cardinality of Task.businessStatus.text: 0, wanted 1..1"),
    ("cardinality (reference-rest)", "Task-1", _owner_by_identifier_only,
     "pa-task-for-referral-management: cardinality of Task.owner.reference: 0, wanted 1..1"),
    ("cardinality from the parent profile", "CarePlan-1", _no_narrative,
     "pa-careplan (from us-core-careplan): cardinality of CarePlan.text: 0, wanted 1..1"),
    ("slice", "CarePlan-1", _no_assess_plan,
     "pa-careplan (from us-core-careplan): slice AssessPlan of CarePlan.category: 0 found"),
    ("slice", "Appointment-1", _only_snomed_service_type,
     "fi-scheduling-appointment: slice thlType of "
     "Appointment.serviceType.where(coding.exists()).coding: 0 found"),
    ("slice", "Provenance-1", _no_custodian_role,
     "fi-base-information-custodian-public (from fi-base-information-custodian): slice "
     "custodianRole of Provenance.agent.where("),
    ("pattern", "Appointment-1", _hl7_cancellation_reason,
     "fi-scheduling-appointment: pattern of Appointment.cancelationReason.coding.system: "
     "'http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason' is not "
     "'urn:oid:1.2.246.537.6.126'"),
    ("pattern", "ServiceRequest-1", _requester_by_identifier,
     "pa-servicerequest: pattern of ServiceRequest.requester.identifier.system: "
     "'urn:askel:user' is not 'http://hl7.org/fhir/sid/us-npi'"),
    ("pattern", "Provenance-1", _author_identified,
     "fi-base-information-custodian-public: pattern of Provenance.agent.who.identifier[1]"
     ".system: 'urn:askel:service' is not 'urn:oid:1.2.246.537.6.40174'"),
    ("invariant", "Task-1", _status_reason_when_completed,
     "pa-task-for-referral-management: invariant pa-taskrm-1 at Task: "),
    ("invariant (base, leaned on)", "Task-1", _modified_before_authored,
     "pa-task-for-referral-management: invariant inv-1 at Task: Last modified date must be "
     "greater than or equal to authored-on date."),
    ("invariant (base, leaned on)", "Goal-2", _target_without_measure,
     "pa-goal: invariant gol-1 at Goal.target: "),
    ("binding", "Task-1", _received_status,
     "pa-task-for-referral-management: binding of Task.status: 'received' is not in "
     "http://hl7.org/fhir/us/physical-activity/ValueSet/pa-task-status (required)"),
    ("reference", "Task-1", _owner_a_healthcare_service,
     "pa-task-for-referral-management: reference target of Task.owner: HealthcareService is "
     "not one of Practitioner, PractitionerRole, Organization"),
    ("choice", "Observation-1", _value_as_text,
     "pa-observation-evs-days-per-week (from pa-observation-evs): type of Observation.value[x]: "
     "valueString, wanted one of Quantity"),
    ("choice", "Appointment-1", _referral_id_as_identifier,
     "fi-scheduling-appointment: type of Appointment.extension.where(url = "
     f"'{FS}referral-id').value[x]: valueIdentifier, wanted one of string"),
    ("minLength", "Observation-1", _year_only,
     "pa-observation-evs-days-per-week (from pa-observation-base): minLength of "
     "Observation.effective.ofType(dateTime): '2026' is under 10"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "example", "breaking", "expected"),
    BROKEN,
    ids=[f"{kind}: {breaking.__name__.strip('_')}" for kind, _, breaking, _ in BROKEN],
)
def test_a_broken_rule_is_a_violation(
    kind: str, example: str, breaking: Break, expected: str
) -> None:
    body = copy.deepcopy(_example(example))
    assert violations(body) == []
    breaking(body)
    found = violations(body)
    assert any(problem.startswith(expected) for problem in found), (expected, found)


def test_every_kind_of_rule_is_broken_by_some_case() -> None:
    broken = {kind.split(" ")[0] for kind, *_ in BROKEN}
    assert broken == set(CHECKS)
