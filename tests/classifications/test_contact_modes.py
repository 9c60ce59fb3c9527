"""The one contact-mode vocabulary: every mode has THL's contact type, other spellings are
read as the vocabulary's, the same type serves referrals, scheduling and visits, and a visit's
THL classifications follow from its mode, its counsellor and its place on the tab."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from app.classifications import avohilmo, codes
from app.classifications.contact_modes import (
    ALIASES,
    CONTACT_MODES,
    ContactMode,
    OneToOneMode,
    participation_mode,
    yhteystapa,
)
from app.counselling.schemas import VisitFields
from app.referrals.schemas import ReferralRead
from app.scheduling.schemas import AppointmentCreate

MODES = TypeAdapter(ContactMode)


@pytest.mark.parametrize("mode", CONTACT_MODES)
def test_every_mode_has_a_valid_thl_contact_type(mode: str) -> None:
    contact_type = yhteystapa(mode)
    assert contact_type.system == codes.YHTEYSTAPA
    assert contact_type.system_uri == "urn:oid:1.2.246.537.6.127"
    assert contact_type.valid_on(date(2026, 1, 1))
    assert all(contact_type.name(language) for language in ("fi", "sv", "en"))


def test_phone_and_video_are_thls_real_time_remote_contact_and_hl7s_modes_apart() -> None:
    assert (yhteystapa("phone").code, yhteystapa("video").code) == ("R52", "R52")
    assert yhteystapa("in_person").code == "R10"
    assert yhteystapa("home_visit").code == "R20"
    modes = {mode: participation_mode(mode)["code"] for mode in CONTACT_MODES}
    assert modes == {"in_person": "FACE", "phone": "PHONE", "video": "VIDEOCONF",
                     "group": "FACE", "home_visit": "FACE"}  # fmt: skip


@pytest.mark.parametrize(("spelling", "mode"), sorted(ALIASES.items()))
def test_other_spellings_are_read_as_the_vocabularys(spelling: str, mode: str) -> None:
    assert MODES.validate_python(spelling) == mode
    assert MODES.validate_python(spelling.upper()) == mode
    assert yhteystapa(spelling) == yhteystapa(mode)


def test_a_plan_is_agreed_in_a_one_to_one_mode_in_any_spelling() -> None:
    agreed = TypeAdapter(OneToOneMode)
    assert agreed.validate_python("telephone") == "phone"
    with pytest.raises(ValidationError):
        agreed.validate_python("group")


@pytest.mark.parametrize("wrong", ["fax", "", "PHONE CALL", 3])
def test_a_mode_outside_the_vocabulary_is_refused(wrong: object) -> None:
    with pytest.raises(ValidationError):
        MODES.validate_python(wrong)


def test_referrals_scheduling_and_visits_share_the_vocabulary() -> None:
    for model, field in (
        (ReferralRead, "contact_mode"),
        (AppointmentCreate, "mode"),
        (VisitFields, "contact_type"),
    ):
        schema = model.model_json_schema()["properties"][field]
        choices = schema.get("enum") or next(
            option["enum"] for option in schema["anyOf"] if "enum" in option
        )
        assert tuple(choices) == CONTACT_MODES, model
        # The OpenAPI description names the other spellings accepted.
        assert "`telephone` (= `phone`)" in json.dumps(schema), model


def test_the_code_lists_have_no_duplicates_and_say_what_is_verified() -> None:
    keys = [(entry.system, entry.code) for entry in codes.CODES]
    assert len(keys) == len(set(keys))
    assert {entry.system for entry in codes.CODES} >= codes.VERIFIED_SYSTEMS
    # Each list is known to be THL's, and each code is valid today.
    assert {entry.system for entry in codes.CODES} == codes.VERIFIED_SYSTEMS
    assert all(entry.valid_on(date(2026, 11, 30)) for entry in codes.CODES)


def test_a_first_visit_and_a_follow_up_are_told_apart() -> None:
    first = avohilmo.classify("phone", "physiotherapist", first=True)
    again = avohilmo.classify("video", "physiotherapist", first=False)
    assert (first.first_visit, again.first_visit) == (True, False)
    # THL counts a call and a video meeting alike: real-time remote contact.
    assert (first.contact_type.code, again.contact_type.code) == ("R52", "R52")
    assert first.occupation is not None
    assert first.occupation.code == "32261"
    assert (first.procedure.system, first.procedure.code) == (codes.SPAT, "SPAT1305")
    assert (first.nature.code, first.service_class.code) == ("TH", "T29")
    assert first.service_class.system == codes.PALVELUMUOTO
    assert [code.system for code in first.codes()] == [
        codes.YHTEYSTAPA, codes.PALVELUMUOTO, codes.SPAT, codes.KAYNNIN_LUONNE,
        codes.AMMATTILUOKITUS,
    ]  # fmt: skip


def test_a_professional_without_a_known_profession_has_no_occupation() -> None:
    assert avohilmo.classify("in_person", None, first=True).occupation is None
    assert avohilmo.occupation("astronaut") is None
    assert all(avohilmo.occupation(profession) for profession in avohilmo.OCCUPATIONS)
