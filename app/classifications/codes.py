"""THL code lists as data: each code with its code system's OID, names in Finnish, Swedish and
English, and the dates it is valid for (THL publishes its classifications on the code server,
koodistopalvelu.kanta.fi, by OID).

Where each list was checked:

- **Yhteystapa** (contact type), OID 1.2.246.537.6.127 (HL7 Finland's Finnish Scheduling IG).
  Codes, names and dates from THL's Avohilmo contact types as FinnGen tabulates them
  (FinOMOP's vocabulary sources), agreeing with THL's own recording guide for school health
  care: R52 is any real-time remote contact (a phone call or a video meeting, since 2019; the
  phone's own R50 ended in 2018); R56 is remote contact without a real-time exchange.
- **Palvelumuoto** (service class), OID 1.2.246.537.6.125 (the code server's page, and
  FinnishBase's HealthcareService example). The list has no health-promotion class: T29 (other
  health care, "muu terveydenhoito") is the one for counselling outside the named clinics,
  Askel's choice for the region to confirm.
- **SPAT** (primary care procedures), OID 1.2.246.537.6.128 (the code server's page): SPAT1305,
  "Liikuntaan liittyvä neuvonta ja ohjaus", from the code server's export of the list.
- **Käynnin luonne** (the visit's nature), OID 1.2.246.537.6.124 (the code server's page): TH,
  health care (promotion and prevention), as THL's recording guide names it; SH is treatment.
  Whether a visit is the first one for the matter ("Ensikäynti", OID 1.2.246.537.6.120) is a
  list of its own whose code values were not found: Askel reports it as a yes or no.
- **Ammattiluokitus** (Statistics Finland's occupational classification), OID
  1.2.246.537.6.74, the 2001 version the code server publishes under it and Avohilmo's data
  carries: codes and names from the code server's export.

Swedish and English names that THL does not publish are Askel's translations.
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

# The code systems whose OID and codes were checked against a published source (see above;
# which service class fits counselling is Askel's choice within a checked list).
VERIFIED_SYSTEMS = frozenset({YHTEYSTAPA, PALVELUMUOTO, SPAT, KAYNNIN_LUONNE, AMMATTILUOKITUS})


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


_2001, _2007, _2009, _2019 = date(2001, 1, 1), date(2007, 1, 1), date(2009, 1, 1), date(2019, 1, 1)
_2030 = date(2030, 12, 31)

# The statistics store a visit's contact type and occupational class by their place in these
# lists: a change to a list's codes or order raises `app.statistics.facts.FACTS_VERSION`.
CODES: tuple[Code, ...] = (
    Code(YHTEYSTAPA, "R10", "Asiakkaan käynti vastaanotolla", "Klientens besök på mottagningen",
         "Client's visit at the service", _2007),
    Code(YHTEYSTAPA, "R20", "Ammattihenkilön käynti asiakkaan kotona",
         "Yrkesutbildad persons besök i klientens hem", "Professional's visit to the client's home",
         _2007),
    Code(YHTEYSTAPA, "R52", "Reaaliaikainen etäasiointi", "Distanskontakt i realtid",
         "Real-time remote contact", _2019),
    Code(YHTEYSTAPA, "R56", "Etäasiointi ilman reaaliaikaista kontaktia",
         "Distanskontakt utan kontakt i realtid", "Remote contact without real-time contact",
         _2019),
    Code(PALVELUMUOTO, "T29", "Muu terveydenhoito", "Övrig hälsovård", "Other health care",
         _2007, _2030),
    Code(SPAT, "SPAT1305", "Liikuntaan liittyvä neuvonta ja ohjaus", "Rådgivning om motionering",
         "Counselling and guidance related to physical exercise", _2009),
    Code(KAYNNIN_LUONNE, "TH", "Terveydenhoito", "Hälsovård",
         "Health care (promotion and prevention)", _2007, _2030),
    Code(KAYNNIN_LUONNE, "SH", "Sairaanhoito", "Sjukvård", "Medical care", _2007, _2030),
    Code(AMMATTILUOKITUS, "32311", "Sairaanhoitajat", "Sjukskötare", "Nurses", _2001),
    Code(AMMATTILUOKITUS, "32261", "Fysioterapeutit", "Fysioterapeuter", "Physiotherapists",
         _2001),
    Code(AMMATTILUOKITUS, "2221", "Lääkärit", "Läkare", "Physicians", _2001),
    Code(AMMATTILUOKITUS, "34752", "Urheilu- ja liikunnanohjaajat", "Idrottsinstruktörer",
         "Physical exercise and sports instructors", _2001),
)  # fmt: skip

_BY_KEY = {(code.system, code.code): code for code in CODES}


def code(system: str, value: str) -> Code:
    """One code of a list; a code missing from the lists is a bug in Askel's tables."""
    return _BY_KEY[(system, value)]


def of_system(system: str) -> tuple[Code, ...]:
    """The codes of one list, in the lists' order."""
    return tuple(entry for entry in CODES if entry.system == system)
