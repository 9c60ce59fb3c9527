"""The one vocabulary of how a patient and a counsellor meet, used by referrals (the patient's
wish), scheduling (what a slot offers, how an appointment is held) and visits (how it was held),
each mode with THL's yhteystapa (contact type) code, which Avohilmo and the region receive.

Phone and video stay apart everywhere: THL counts both as real-time remote contact (R52) and
FHIR's encounter class as virtual, so the FHIR Encounter also carries HL7's participation mode
(telephone or videoconferencing), and Askel's own records and statistics keep the mode.

Other spellings of a mode are accepted on input (`ALIASES`) and answered in this vocabulary;
the order of `CONTACT_MODES` is fixed, for the statistics store modes by their position."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field

from app.classifications.codes import YHTEYSTAPA, Code, code

ContactModeValue = Literal["in_person", "phone", "video", "group", "home_visit"]
CONTACT_MODES: tuple[ContactModeValue, ...] = get_args(ContactModeValue)

# Spellings other systems (and people) use for the same modes.
ALIASES: dict[str, ContactModeValue] = {
    "visit": "in_person",
    "in-person": "in_person",
    "face_to_face": "in_person",
    "telephone": "phone",
    "video_call": "video",
    "home": "home_visit",
}

# A group meets at the service, so THL counts it as a visit there; that it was a group is
# told by the visit type, not the contact type.
_YHTEYSTAPA: dict[ContactModeValue, str] = {
    "in_person": "R10",
    "group": "R10",
    "home_visit": "R20",
    "phone": "R52",
    "video": "R52",
}

# HL7 v3 ParticipationMode: how the people took part (FHIR's terminology).
PARTICIPATION_MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
_PARTICIPATION: dict[ContactModeValue, tuple[str, str]] = {
    "in_person": ("FACE", "face-to-face"),
    "group": ("FACE", "face-to-face"),
    "home_visit": ("FACE", "face-to-face"),
    "phone": ("PHONE", "telephone"),
    "video": ("VIDEOCONF", "videoconferencing"),
}

DESCRIPTION = (
    "How the patient and the counsellor meet: one of "
    + ", ".join(f"`{mode}`" for mode in CONTACT_MODES)
    + ". Also accepted on input: "
    + ", ".join(f"`{alias}` (= `{mode}`)" for alias, mode in ALIASES.items())
    + "; answers always use the first spelling. Each mode maps to THL's contact type"
    f" (yhteystapa, urn:oid:{YHTEYSTAPA})."
)


def normalise(value: Any) -> Any:
    """A mode in this vocabulary for one of its other spellings; anything else as it came (for
    the Literal to accept or refuse)."""
    if isinstance(value, str):
        return ALIASES.get(value.strip().lower(), value)
    return value


ContactMode = Annotated[
    ContactModeValue, BeforeValidator(normalise), Field(description=DESCRIPTION)
]


# How a plan can be agreed with the patient: the modes of one person meeting one counsellor.
OneToOneMode = Annotated[
    Literal["in_person", "phone", "video"],
    BeforeValidator(normalise),
    Field(description="One of `in_person`, `phone`, `video` (other spellings as for the modes)."),
]


def yhteystapa(mode: str) -> Code:
    """THL's contact type for a mode (an old spelling too); a mode outside the vocabulary is a
    bug."""
    return code(YHTEYSTAPA, _YHTEYSTAPA[normalise(mode)])


def participation_mode(mode: str) -> dict[str, str]:
    """HL7's participation mode of a contact mode, as a FHIR Coding."""
    code, display = _PARTICIPATION[normalise(mode)]
    return {"system": PARTICIPATION_MODE_SYSTEM, "code": code, "display": display}
