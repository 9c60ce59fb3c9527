"""A counselling visit as THL's outpatient register (Avohilmo) classifies it: its contact type
(from the contact mode), service class, procedure, whether it is the referral's first visit or
a follow-up, and the professional's occupational class (from their profession). How sure each
code is: see `codes`."""

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

# Every counselling visit is health promotion, and its procedure physical-activity counselling.
SERVICE_CLASS = code(PALVELUMUOTO, "T11")
PROCEDURE = code(SPAT, "SPAT1004")
FIRST_VISIT = code(KAYNNIN_LUONNE, "1")
FOLLOW_UP = code(KAYNNIN_LUONNE, "2")

# Askel's professions (the token's profession claim) → the occupational classification.
OCCUPATIONS: dict[str, str] = {
    "doctor": "2211",
    "nurse": "2221",
    "physiotherapist": "2264",
    "counsellor": "3423",
}


def occupation(profession: str | None) -> Code | None:
    """The occupational class of a profession; none for a professional without one known."""
    number = OCCUPATIONS.get(profession or "")
    return code(AMMATTILUOKITUS, number) if number else None


def visit_order(first: bool) -> Code:
    """Käynnin luonne: the referral's first counselling visit, or a follow-up."""
    return FIRST_VISIT if first else FOLLOW_UP


@dataclass(frozen=True, slots=True)
class VisitClassification:
    """The THL codes one visit is reported with."""

    contact_type: Code
    service_class: Code
    procedure: Code
    visit_order: Code
    occupation: Code | None

    def codes(self) -> list[Code]:
        """All of them, in a fixed order (the occupation only where known)."""
        found = [self.contact_type, self.service_class, self.procedure, self.visit_order]
        return [*found, self.occupation] if self.occupation else found


def classify(contact_mode: str, profession: str | None, first: bool) -> VisitClassification:
    """A visit's classifications from how it was held, by whom, and whether it was the
    referral's first."""
    return VisitClassification(
        contact_type=yhteystapa(contact_mode),
        service_class=SERVICE_CLASS,
        procedure=PROCEDURE,
        visit_order=visit_order(first),
        occupation=occupation(profession),
    )
