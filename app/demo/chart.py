"""The development patient system's charts: the demo's patients as the region's patient system
holds them, as FHIR Patients, and a few people Askel has not met yet, so that a launch from a
chart can both find a patient and register one."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from app.demo.region import MUNICIPALITIES, DemoPatient, demo_patients, synthetic_patient
from app.fhir_sync.mappings import mapping, system
from app.patients.hetu import parse_hetu

NEWCOMERS = 5
# The diagnoses on the charts, coded as a Finnish patient system codes them (THL's identifiers
# of ICD-10 and ICPC-2), each chart with one or two of them.
ICD10, ICPC2 = "urn:oid:1.2.246.537.6.1", "urn:oid:1.2.246.537.6.31"
DIAGNOSES = (
    (ICD10, "E11.9", "Aikuistyypin diabetes ilman komplikaatioita"),
    (ICD10, "I10", "Essentiaalinen (primaarinen) verenpainetauti"),
    (ICD10, "E66.9", "Tarkemmin määrittämätön komplisoitumaton lihavuus"),
    (ICPC2, "T90", "Diabetes, tyyppi 2"),
    (ICD10, "M54.5", "Lanneselän kipu"),
)
# One of them lives under a security prohibition (turvakielto), as the chart's label says.
PROHIBITED = "new-5"


def _newcomers(known: set[str]) -> list[DemoPatient]:
    """People only the patient system knows: identity codes from the test range again, on
    birth dates none of the demo's patients has."""
    rng = random.Random(1784)
    found: list[DemoPatient] = []
    while len(found) < NEWCOMERS:
        municipality = MUNICIPALITIES[len(found) % len(MUNICIPALITIES)]
        person = synthetic_patient(rng, municipality, lambda _born: rng.randint(900, 999))
        if person.hetu not in known:
            known.add(person.hetu)
            found.append(person)
    return found


def charts() -> dict[str, DemoPatient]:
    """Every chart of the development patient system, by its Patient's FHIR id."""
    registered = demo_patients()
    newcomers = _newcomers({person.hetu for person in registered})
    charted = {f"demo-{number}": person for number, person in enumerate(registered, start=1)}
    charted.update({f"new-{number}": person for number, person in enumerate(newcomers, start=1)})
    return charted


def newcomer_ids() -> frozenset[str]:
    return frozenset(chart_id for chart_id in charts() if chart_id.startswith("new-"))


def patient_resource(chart_id: str, person: DemoPatient) -> dict[str, Any]:
    """The chart's Patient as a Finnish patient system publishes it (FinnishBase: the identity
    code, the home municipality's code, the language of communication)."""
    inbound = mapping("Patient")["inbound"]
    born: date = parse_hetu(person.hetu).birth_date
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": chart_id,
        "identifier": [
            {
                **mapping("Patient")["hetu_identifier"],
                "system": system("hetu"),
                "value": person.hetu,
            }
        ],
        "name": [{"use": "official", "family": person.family_name, "given": [person.given_name]}],
        "gender": person.sex,
        "birthDate": born.isoformat(),
        "address": [
            {
                "extension": [
                    {
                        "url": inbound["municipality_extension"],
                        "valueCoding": {
                            "system": inbound["municipality_system"],
                            "code": person.home_municipality_code,
                        },
                    }
                ]
            }
        ],
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": person.language}]},
                "preferred": True,
            }
        ],
    }
    if person.phone:
        resource["telecom"] = [{"system": "phone", "value": person.phone, "use": "mobile"}]
    if chart_id == PROHIBITED:
        label = mapping("Patient")["security_label"]
        resource["meta"] = {
            "security": [{key: label[key] for key in ("system", "code", "display")}]
        }
    return resource


def condition_resources(chart_id: str) -> list[dict[str, Any]]:
    """The chart's active diagnoses as FHIR Conditions."""
    number = sum(ord(character) for character in chart_id)
    chosen = [DIAGNOSES[number % len(DIAGNOSES)]]
    if number % 3 == 0:
        chosen.append(DIAGNOSES[(number + 1) % len(DIAGNOSES)])
    clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    return [
        {
            "resourceType": "Condition",
            "id": f"{chart_id}-{index}",
            "clinicalStatus": {"coding": [{"system": clinical, "code": "active"}]},
            "code": {"coding": [{"system": system_id, "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{chart_id}"},
        }
        for index, (system_id, code, display) in enumerate(chosen, start=1)
    ]
