"""A counselling visit as THL's outpatient register (Avohilmo) classifies it: its contact type
(from the contact mode), service class, procedure, nature (health promotion), whether it is the
referral's first visit, and the professional's occupational class (from their profession).
Where each code was checked: see `codes`."""

from __future__ import annotations

from dataclasses import dataclass

from app.classifications.codes import (
    AMMATTILUOKITUS,
    KAYNNIN_LUONNE,
    PALVELUMUOTO,
    SPAT,
    Code,
    code,
)
from app.classifications.contact_modes import yhteystapa

# Every counselling visit is health care of the promoting kind ("terveydenhoito"), outside the
# named clinics, and its procedure physical-activity counselling.
SERVICE_CLASS = code(PALVELUMUOTO, "T29")
PROCEDURE = code(SPAT, "SPAT1305")
NATURE = code(KAYNNIN_LUONNE, "TH")

# Askel's professions (the token's profession claim) → the occupational classification.
OCCUPATIONS: dict[str, str] = {
    "doctor": "2221",
    "nurse": "32311",
    "physiotherapist": "32261",
    "counsellor": "34752",
}


def occupation(profession: str | None) -> Code | None:
    """The occupational class of a profession; none for a professional without one known."""
    number = OCCUPATIONS.get(profession or "")
    return code(AMMATTILUOKITUS, number) if number else None


@dataclass(frozen=True, slots=True)
class VisitClassification:
    """The THL codes one visit is reported with."""

    contact_type: Code
    service_class: Code
    procedure: Code
    nature: Code
    # Ensikäynti: the referral's first counselling visit, not a follow-up.
    first_visit: bool
    occupation: Code | None

    def codes(self) -> list[Code]:
        """The coded ones, in a fixed order (the occupation only where known)."""
        found = [self.contact_type, self.service_class, self.procedure, self.nature]
        return [*found, self.occupation] if self.occupation else found


def classify(contact_mode: str, profession: str | None, first: bool) -> VisitClassification:
    """A visit's classifications from how it was held, by whom, and whether it was the
    referral's first."""
    return VisitClassification(
        contact_type=yhteystapa(contact_mode),
        service_class=SERVICE_CLASS,
        procedure=PROCEDURE,
        nature=NATURE,
        first_visit=first,
        occupation=occupation(profession),
    )
