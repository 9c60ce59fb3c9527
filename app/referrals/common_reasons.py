"""The reasons for which physical-activity counselling is most often asked, offered on the
referral form as ready diagnoses: codes of the classifications themselves (ICD-10 as the
Finnish edition has them, ICPC-2), each with its name in Finnish, Swedish and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.i18n import Language


@dataclass(frozen=True, slots=True)
class CommonReason:
    system: Literal["icd10", "icpc2"]
    code: str
    fi: str
    sv: str
    en: str

    @property
    def value(self) -> str:
        """How the form names it: the system and the code."""
        return f"{self.system}:{self.code}"

    def name(self, language: Language) -> str:
        names: dict[Language, str] = {"fi": self.fi, "sv": self.sv, "en": self.en}
        return names[language]


COMMON_REASONS = (
    CommonReason("icd10", "E11.9", "Tyypin 2 diabetes ilman komplikaatioita",
                 "Typ 2-diabetes utan komplikationer", "Type 2 diabetes without complications"),
    CommonReason("icd10", "E66.9", "Lihavuus, määrittämätön", "Fetma, ospecificerad",
                 "Obesity, unspecified"),
    CommonReason("icd10", "I10", "Essentiaalinen verenpainetauti", "Essentiell hypertoni",
                 "Essential (primary) hypertension"),
    CommonReason("icd10", "E78.0", "Puhdas hyperkolesterolemia", "Ren hyperkolesterolemi",
                 "Pure hypercholesterolaemia"),
    CommonReason("icd10", "M54.5", "Alaselän kipu", "Smärta i ländryggen", "Low back pain"),
    CommonReason("icd10", "F32.9", "Masennustila, määrittämätön",
                 "Depressiv episod, ospecificerad", "Depressive episode, unspecified"),
    CommonReason("icd10", "J44.9", "Keuhkoahtaumatauti, määrittämätön",
                 "Kroniskt obstruktiv lungsjukdom, ospecificerad",
                 "Chronic obstructive pulmonary disease, unspecified"),
    CommonReason("icpc2", "T90", "Diabetes, ei insuliinihoitoinen",
                 "Diabetes, icke insulinberoende", "Diabetes non-insulin dependent"),
    CommonReason("icpc2", "T82", "Lihavuus", "Fetma", "Obesity"),
    CommonReason("icpc2", "K86", "Kohonnut verenpaine ilman elinvaurioita",
                 "Hypertoni utan organpåverkan", "Hypertension uncomplicated"),
)  # fmt: skip
BY_VALUE = {reason.value: reason for reason in COMMON_REASONS}


def named(system: str, code: str, language: Language) -> str | None:
    """The name of a code, if it is one of the common reasons."""
    reason = BY_VALUE.get(f"{system}:{code}")
    return reason.name(language) if reason else None
