"""THL code lists as data: each code with its code system's OID, names in Finnish, Swedish and
English, and the dates it is valid for (THL publishes its classifications on the code server,
koodistopalvelu.kanta.fi, by OID).

How sure each list is (check against the code server before production reporting):

- **Yhteystapa** (contact type), OID 1.2.246.537.6.127: the OID is verified (HL7 Finland's
  Finnish Scheduling IG lists "Hilmo - Yhteystapa (1.2.246.537.6.127.201801)"). The codes
  R10 (visit at the service), R20 (home visit), R52 (phone) and R56 (real-time video) are
  from THL's Avohilmo guide as recalled, not checked against the code server: provisional.
- **Palvelumuoto** (service class), OID 1.2.246.537.6.125: OID and code provisional.
- **SPAT** (primary care procedures), OID 1.2.246.537.6.128: OID provisional; the code
  for physical-activity counselling is provisional.
- **Käynnin luonne** (first visit or follow-up), OID 1.2.246.537.6.124: OID and codes
  provisional.
- **Ammattiluokitus** (Statistics Finland's occupational classification as THL publishes it),
  OID 1.2.246.537.6.74: OID provisional; the codes are the 2010 classification's, provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.i18n import Language

YHTEYSTAPA = "1.2.246.537.6.127"
PALVELUMUOTO = "1.2.246.537.6.125"
SPAT = "1.2.246.537.6.128"
KAYNNIN_LUONNE = "1.2.246.537.6.124"
AMMATTILUOKITUS = "1.2.246.537.6.74"

# Whether each code system's OID (not its codes) was checked against a published source.
VERIFIED_SYSTEMS = frozenset({YHTEYSTAPA})


@dataclass(frozen=True, slots=True)
class Code:
    """One code of a THL code list."""

    system: str
    code: str
    fi: str
    sv: str
    en: str
    valid_from: date
    valid_to: date | None = None

    @property
    def system_uri(self) -> str:
        """How FHIR names the code system."""
        return f"urn:oid:{self.system}"

    def name(self, language: Language) -> str:
        names: dict[Language, str] = {"fi": self.fi, "sv": self.sv, "en": self.en}
        return names[language]

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def coding(self) -> dict[str, str]:
        """The code as a FHIR Coding (display in Finnish, as THL publishes it)."""
        return {"system": self.system_uri, "code": self.code, "display": self.fi}


_2018 = date(2018, 1, 1)

CODES: tuple[Code, ...] = (
    Code(YHTEYSTAPA, "R10", "Asiakkaan käynti vastaanotolla", "Klientens besök på mottagningen",
         "Client's visit at the service", _2018),
    Code(YHTEYSTAPA, "R20", "Kotikäynti", "Hembesök", "Home visit", _2018),
    Code(YHTEYSTAPA, "R52", "Puhelinyhteys", "Telefonkontakt", "Telephone contact", _2018),
    Code(YHTEYSTAPA, "R56", "Reaaliaikainen etäyhteys, videovälitteinen",
         "Distanskontakt i realtid, via video", "Real-time remote contact by video", _2018),
    Code(PALVELUMUOTO, "T11", "Terveyden edistäminen", "Hälsofrämjande", "Health promotion",
         _2018),
    Code(SPAT, "SPAT1004", "Liikuntaneuvonta", "Motionsrådgivning",
         "Physical activity counselling", _2018),
    Code(KAYNNIN_LUONNE, "1", "Ensikäynti", "Första besök", "First visit", _2018),
    Code(KAYNNIN_LUONNE, "2", "Uusintakäynti", "Återbesök", "Follow-up visit", _2018),
    Code(AMMATTILUOKITUS, "2221", "Sairaanhoitajat", "Sjukskötare", "Nursing professionals",
         _2018),
    Code(AMMATTILUOKITUS, "2264", "Fysioterapeutit", "Fysioterapeuter", "Physiotherapists",
         _2018),
    Code(AMMATTILUOKITUS, "2211", "Yleislääkärit", "Allmänläkare", "General practitioners",
         _2018),
    Code(AMMATTILUOKITUS, "3423", "Liikunnanohjaajat", "Idrottsinstruktörer",
         "Fitness and recreation instructors", _2018),
)  # fmt: skip

_BY_KEY = {(code.system, code.code): code for code in CODES}


def code(system: str, value: str) -> Code:
    """One code of a list; a code missing from the lists is a bug in Askel's tables."""
    return _BY_KEY[(system, value)]


def of_system(system: str) -> tuple[Code, ...]:
    """The codes of one list, in the lists' order."""
    return tuple(entry for entry in CODES if entry.system == system)
