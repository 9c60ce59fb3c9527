"""What the region receives tells a phone visit from a video one: both are virtual encounters
(class VR) and THL's real-time remote contact (R52), and HL7's participation mode in
Encounter.type keeps them apart; every visit carries THL's service class and nature."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app.counselling.models import Visit
from app.fhir_sync.resources import ReferralRecords, referral_set
from tests.fixtures.conformance import violations
from tests.fixtures.fhir_scene import refer, scene

YHTEYSTAPA = "urn:oid:1.2.246.537.6.127"
KAYNNIN_LUONNE = "urn:oid:1.2.246.537.6.124"
PALVELUMUOTO = "urn:oid:1.2.246.537.6.125"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"


def _held(records: ReferralRecords, mode: str) -> ReferralRecords:
    """The scene with every visit held this way."""
    visits = []
    for recorded in records.visits:
        visit = recorded.visit
        again = Visit(**{c.key: getattr(visit, c.key) for c in Visit.__table__.columns})
        again.contact_type = mode
        visits.append(dataclasses.replace(recorded, visit=again))
    return dataclasses.replace(records, visits=visits)


def _encounters(records: ReferralRecords) -> list[dict[str, Any]]:
    return [r.body for r in referral_set(records, refer) if r.resource_type == "Encounter"]


def _codes(encounter: dict[str, Any], system: str) -> list[str]:
    return [
        coding["code"]
        for concept in encounter["type"]
        for coding in concept["coding"]
        if coding["system"] == system
    ]


@pytest.mark.parametrize(("mode", "code"), [("phone", "PHONE"), ("video", "VIDEOCONF")])
def test_phone_and_video_are_both_virtual_remote_contact_but_coded_apart(
    mode: str, code: str
) -> None:
    for encounter in _encounters(_held(scene(), mode)):
        assert encounter["class"]["code"] == "VR"
        assert _codes(encounter, YHTEYSTAPA) == ["R52"]
        assert _codes(encounter, PARTICIPATION) == [code]
        assert violations(encounter) == []


def test_the_phone_and_the_video_encounter_differ_only_in_the_participation_mode() -> None:
    phone, video = (_encounters(_held(scene(), mode))[0] for mode in ("phone", "video"))
    assert phone != video
    assert {**phone, "type": None} == {**video, "type": None}


def test_every_visit_is_health_promotion_of_the_one_service_class() -> None:
    encounters = _encounters(scene())
    assert [_codes(e, KAYNNIN_LUONNE) for e in encounters] == [["TH"], ["TH"]]
    assert [_codes(e, PALVELUMUOTO) for e in encounters] == [["T29"], ["T29"]]
    # The counselling concept stays first, as before.
    assert all(e["type"][0]["coding"][0]["code"] == "435551000124105" for e in encounters)


def test_a_visit_held_in_person_is_ambulatory_and_at_the_service() -> None:
    first = _encounters(scene())[0]
    assert (first["class"]["code"], _codes(first, YHTEYSTAPA)) == ("AMB", ["R10"])
    assert _codes(first, PARTICIPATION) == ["FACE"]


def test_every_visit_is_physical_activity_counselling_by_a_counsellor_of_their_class() -> None:
    built = list(referral_set(scene(), refer))
    for encounter in (r.body for r in built if r.resource_type == "Encounter"):
        assert _codes(encounter, "urn:oid:1.2.246.537.6.128") == ["SPAT1305"]
    counsellor = next(
        r.body
        for r in built
        if r.resource_type == "Practitioner"
        and r.body.get("name") == [{"text": "Liikuntaneuvoja 1 Laihia"}]
    )
    [qualification] = counsellor["qualification"]
    assert qualification["code"]["coding"] == [
        {"system": "urn:oid:1.2.246.537.6.74", "code": "34752",
         "display": "Urheilu- ja liikunnanohjaajat"}
    ]  # fmt: skip
    assert violations(counsellor) == []
    # The referrer's class too, from their account: the same for every referral naming them.
    doctor = next(
        r.body for r in built if r.resource_type == "Practitioner" and r.body is not counsellor
    )
    assert [q["code"]["coding"][0]["code"] for q in doctor["qualification"]] == ["2221"]
