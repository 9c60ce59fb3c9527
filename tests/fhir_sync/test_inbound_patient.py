"""The region's FHIR Patient as Askel registers a patient (`inbound.patient_from_fhir`): each
field from where FinnishBase puts it, the turvakielto label, and refusals that name the place of
what is wrong, never its value."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from app.fhir_sync.exceptions import InvalidFhirResource
from app.fhir_sync.inbound import patient_from_fhir
from app.patients.hetu import make_hetu
from app.patients.schemas import PatientCreate
from app.patients.temporary_ids import TemporaryId

HETU = make_hetu(date(1984, 6, 12), 934)
MUNICIPALITY = "https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/municipality-code"
LABELS = "https://hl7.fi/fhir/finnish-base-profiles/CodeSystem/fi-base-security-label-cs"
TURVAKIELTO = {"system": LABELS, "code": "TURVAKIELTO"}


def chart_patient(**changes: Any) -> dict[str, Any]:
    """A Patient as FinnishBase's fi-base-patient describes one."""
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "p-1",
        "meta": {"profile": ["https://hl7.fi/fhir/finnish-base-profiles/StructureDefinition/"
                             "fi-base-patient"]},
        "identifier": [
            {"system": "urn:oid:1.2.246.10.1234567.22.2026", "value": "TEMP-1"},
            {"use": "official", "system": "urn:oid:1.2.246.21", "value": HETU,
             "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                  "code": "NNFIN"}]}},
        ],
        "name": [{"use": "usual", "given": ["Mikki"]},
                 {"use": "official", "family": "Virtanen", "given": ["Mikael", "Johannes"]}],
        "telecom": [{"system": "email", "value": "mikael@example.fi"},
                    {"system": "phone", "use": "work", "value": "09 310 1234"},
                    {"system": "phone", "use": "home", "value": "(06) 123 4567"},
                    {"system": "phone", "use": "mobile", "value": "040 123 4567"}],
        "extension": [{"url": MUNICIPALITY,
                       "valueCoding": {"system": "urn:oid:1.2.246.537.6.21", "version": "2003",
                                       "code": "231", "display": "Kaskinen"}}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fi"}]}},
                          {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "sv"}]},
                           "preferred": True}],
    }  # fmt: skip
    body.update(changes)
    return body


def test_a_chart_patient_becomes_what_askel_registers() -> None:
    assert patient_from_fhir(chart_patient()) == PatientCreate(
        hetu=HETU,
        temporary_id=TemporaryId(system="urn:oid:1.2.246.10.1234567.22.2026", value="TEMP-1"),
        given_name="Mikael Johannes",
        family_name="Virtanen",
        home_municipality_code="231",
        language="sv",
        phone="+358401234567",
        security_prohibition=False,
    )


@pytest.mark.parametrize("gender", ["female", "male", "other", "unknown"])
def test_the_charts_gender_is_the_sex_askel_records(gender: str) -> None:
    assert patient_from_fhir(chart_patient(gender=gender)).sex == gender


def test_a_chart_patient_without_a_gender_is_of_unknown_sex() -> None:
    """Not read from the identity code: codes issued after the reform do not tell it."""
    assert patient_from_fhir(chart_patient()).sex == "unknown"


def test_the_first_name_counts_when_none_is_official() -> None:
    names = [{"family": "Korhonen", "given": ["Aino"]}, {"family": "Other", "given": ["Not"]}]
    data = patient_from_fhir(chart_patient(name=names))
    assert (data.given_name, data.family_name) == ("Aino", "Korhonen")


@pytest.mark.parametrize("place", ["patient", "address"])
def test_the_home_municipality_is_read_on_the_patient_and_on_an_address(place: str) -> None:
    extension = {"url": MUNICIPALITY, "valueCoding": {"code": "399"}}
    body = chart_patient(extension=[])
    if place == "patient":
        body["extension"] = [extension]
    else:
        body["address"] = [{"use": "home", "city": "Laihia", "extension": [extension]}]
    assert patient_from_fhir(body).home_municipality_code == "399"


@pytest.mark.parametrize(("communication", "language"), [
    ([], "fi"),
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}}], "en"),
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "sv-FI"}]}}], "sv"),
    ([{"language": {"coding": [{"code": "fi"}]}},
      {"language": {"coding": [{"code": "en"}]}, "preferred": False}], "fi"),
    ([{"language": {"coding": [{"code": "fi"}]}},
      {"language": {"coding": [{"code": "sv"}]}, "preferred": True}], "sv"),
])  # fmt: skip
def test_the_preferred_language_comes_first(
    communication: list[dict[str, Any]], language: str
) -> None:
    assert patient_from_fhir(chart_patient(communication=communication)).language == language


@pytest.mark.parametrize(("telecom", "phone"), [
    ([], None),
    ([{"system": "phone", "use": "home", "value": "+358 6 123 4567"},
      {"system": "phone", "use": "mobile", "value": "+358 (0)50 765 4321"}], "+358507654321"),
    ([{"system": "phone", "use": "home", "value": "06 123 4567"}], "+35861234567"),
    ([{"system": "phone", "value": "0401234567"}], "+358401234567"),
    ([{"system": "phone", "use": "work", "value": "0401234567"}], None),
    ([{"system": "phone", "use": "old", "value": "0401234567"}], None),
    ([{"system": "sms", "value": "0401234567"}], None),
    ([{"system": "phone", "use": "mobile", "value": "soita kotiin"}], None),
    ([{"system": "phone", "use": "mobile", "value": "ei puhelinta"},
      {"system": "phone", "use": "home", "value": "06 123 4567"}], "+35861234567"),
    ([{"system": "phone", "use": "mobile", "rank": 2, "value": "050 765 4321"},
      {"system": "phone", "use": "mobile", "rank": 1, "value": "040 123 4567"}], "+358401234567"),
])  # fmt: skip
def test_a_mobile_or_home_phone_in_e164_and_an_unreadable_one_left_out(
    telecom: list[dict[str, Any]], phone: str | None
) -> None:
    assert patient_from_fhir(chart_patient(telecom=telecom)).phone == phone


@pytest.mark.parametrize(("security", "prohibited"), [
    ([TURVAKIELTO], True),
    ([{"system": LABELS, "code": "turvakielto", "display": "Turvakielto"}], True),
    ([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"},
      TURVAKIELTO], True),
    ([], False),
    ([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}], False),
    ([{"system": "urn:other", "code": "TURVAKIELTO"}], False),
])  # fmt: skip
def test_the_turvakielto_label_is_the_security_prohibition(
    security: list[dict[str, Any]], prohibited: bool
) -> None:
    body = chart_patient()
    body["meta"]["security"] = security
    assert patient_from_fhir(body).security_prohibition is prohibited


def test_a_patient_without_meta_has_no_prohibition() -> None:
    body = chart_patient()
    del body["meta"]
    assert patient_from_fhir(body).security_prohibition is False


def _without_hetu(body: dict[str, Any]) -> None:
    body["identifier"] = []


def _temporary_only(body: dict[str, Any]) -> None:
    # Without the code, the birth date must come from the resource, which has none.
    body["identifier"] = body["identifier"][:1]


def _without_family(body: dict[str, Any]) -> None:
    del body["name"][1]["family"]


def _without_given(body: dict[str, Any]) -> None:
    body["name"] = [{"use": "official", "family": "Virtanen"}]


def _municipality_elsewhere(body: dict[str, Any]) -> None:
    body["extension"][0]["valueCoding"]["system"] = "urn:oid:1.2.246.537.6.3"


def _municipality_unfitting(body: dict[str, Any]) -> None:
    body["extension"][0]["valueCoding"]["code"] = "Kaskinen-231"


def _language_unfitting(body: dict[str, Any]) -> None:
    body["communication"] = [{"language": {"coding": [{"code": "swe-Kaskinen"}]}}]


def _active_unfitting(body: dict[str, Any]) -> None:
    body["active"] = "Virtanen-yes"


def _birth_date_unfitting(body: dict[str, Any]) -> None:
    body["birthDate"] = "12.6.1984-Virtanen"


def _gender_unfitting(body: dict[str, Any]) -> None:
    body["gender"] = "Virtanen-nainen"


def _other_type(body: dict[str, Any]) -> None:
    body["resourceType"] = "Practitioner"


@pytest.mark.parametrize(("change", "place"), [
    (_without_hetu, "Patient.identifier"),
    (_temporary_only, "Patient.birthDate"),
    (_without_family, "Patient.name.family"),
    (_without_given, "Patient.name.given"),
    (_municipality_elsewhere, f"Patient.extension('{MUNICIPALITY}').valueCoding.code"),
    (_municipality_unfitting, f"Patient.extension('{MUNICIPALITY}').valueCoding.code"),
    (_language_unfitting, "Patient.communication.language.coding.code"),
    (_active_unfitting, "Patient.active"),
    (_birth_date_unfitting, "Patient.birthDate"),
    (_gender_unfitting, "Patient.gender"),
    (_other_type, "a Patient is expected"),
])  # fmt: skip
def test_what_does_not_fit_is_refused_naming_the_place_not_the_value(
    change: Any, place: str
) -> None:
    body = copy.deepcopy(chart_patient())
    change(body)
    with pytest.raises(InvalidFhirResource) as refused:
        patient_from_fhir(body)
    detail = refused.value.problem("en", "/fhir/Patient")["detail"]
    assert detail.endswith(f": {place}.")
    for value in (HETU, "Virtanen", "Kaskinen", "1984"):
        assert value not in detail


@pytest.mark.parametrize("body", [None, [], "Patient", {"resourceType": "Patient", "name": "x"}])
def test_what_is_not_a_patient_resource_is_refused(body: Any) -> None:
    with pytest.raises(InvalidFhirResource):
        patient_from_fhir(body)
