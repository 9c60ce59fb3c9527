"""The reasons for which physical-activity counselling is most often asked, offered on the
referral form as ready diagnoses: codes of the classifications themselves, as THL publishes them
on its code server (ICD-10's Finnish edition, urn:oid:1.2.246.537.6.1; ICPC-2,
urn:oid:1.2.246.537.6.31), each with its names in Finnish and Swedish, the English one, and the
dates it is valid for. The form offers only those valid today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from app.i18n import Language


@dataclass(frozen=True, slots=True)
class CommonReason:
    system: Literal["icd10", "icpc2"]
    code: str
    fi: str
    sv: str
    en: str
    valid_from: date
    valid_to: date | None = None

    @property
    def value(self) -> str:
        """How the form names it: the system and the code."""
        return f"{self.system}:{self.code}"

    def name(self, language: Language) -> str:
        names: dict[Language, str] = {"fi": self.fi, "sv": self.sv, "en": self.en}
        return names[language]

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


# ICD-10's codes valid from the Finnish edition's start (1996) unless the code server says later;
# ICPC-2's from 2000 to the end of 2030, as the code server has them.
_ICD10, _COPD, _ICPC2, _ICPC2_END = date(1996, 1, 1), date(1998, 10, 26), date(2000, 1, 1), \
    date(2030, 12, 31)  # fmt: skip

COMMON_REASONS = (
    CommonReason("icd10", "E11.9", "Aikuistyypin diabetes ilman komplikaatioita",
                 "Ej insulinberoende diabetes utan komplikationer",
                 "Non-insulin-dependent diabetes mellitus without complications", _ICD10),
    CommonReason("icd10", "E66.9", "Tarkemmin määrittämätön komplisoitumaton lihavuus",
                 "Enkel fetma UNS", "Simple obesity, unspecified", _ICD10),
    CommonReason("icd10", "I10", "Essentiaalinen (primaarinen) verenpainetauti",
                 "Essentiell hypertoni", "Essential (primary) hypertension", _ICD10),
    CommonReason("icd10", "E78.0", "Hyperkolesterolemia", "Isolerad hyperkolesterolemi",
                 "Pure hypercholesterolaemia", _ICD10),
    CommonReason("icd10", "M54.5", "Lanneselän kipu", "Lumbago", "Low back pain", _ICD10),
    CommonReason("icd10", "F32.9", "Määrittämätön masennustila",
                 "Depressiv episod, ospecificerad", "Depressive episode, unspecified", _ICD10),
    CommonReason("icd10", "J44.9",
                 "Pitkäaikainen ahtauttava keuhkosairaus, ei tietoa vaikeutumisesta",
                 "Kronisk obstruktiv lungsjukdom, ospecificerad",
                 "Chronic obstructive pulmonary disease, unspecified", _COPD),
    CommonReason("icpc2", "T90", "Diabetes, tyyppi 2", "Diabetes, typ 2",
                 "Diabetes non-insulin dependent", _ICPC2, _ICPC2_END),
    CommonReason("icpc2", "T82", "Lihavuus, merkittävä/vaikea", "Fetma, signifikant/svår",
                 "Obesity", _ICPC2, _ICPC2_END),
    CommonReason("icpc2", "K86", "Verenpainetauti, komplisoitumaton",
                 "Blodtryckssjukdom utan komplikationer", "Hypertension uncomplicated", _ICPC2,
                 _ICPC2_END),
)  # fmt: skip
BY_VALUE = {reason.value: reason for reason in COMMON_REASONS}


def offered(day: date) -> tuple[CommonReason, ...]:
    """The common reasons valid on `day`, for the form to offer."""
    return tuple(reason for reason in COMMON_REASONS if reason.valid_on(day))


def named(system: str, code: str, language: Language) -> str | None:
    """The name of a code, if it is one of the common reasons (a lapsed one too: a referral
    keeps the reasons it was sent with)."""
    reason = BY_VALUE.get(f"{system}:{code}")
    return reason.name(language) if reason else None
