"""Demo data for the embedded default: one wellbeing services county, three municipalities (one
bilingual), their health stations and counselling services, staff in every role and 50 patients.

Every personal identity code is from the range reserved for test use (individual number
900-999), generated deterministically, so a demo is the same on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.grants.models import AccessGrant
from app.access.models import User
from app.access.principal import Principal
from app.kit.clock import utcnow
from app.organisations.models import (
    CounsellingService,
    Organisation,
    OrganisationKind,
    ServiceCatchment,
)
from app.patients import service as patient_service
from app.patients.hetu import make_hetu, parse_hetu
from app.patients.schemas import PatientCreate, Sex

REGION_CODE = "hva-pohjanmaa"
PATIENT_COUNT = 50
# The demo patients are registered through the ordinary service, audited under this name.
DEMO_DATA_LOADER = Principal(
    subject="demo-data", organisation=REGION_CODE, roles=frozenset(), issuer="askel"
)


@dataclass(frozen=True)
class DemoMunicipality:
    code: str  # Statistics Finland municipality code
    slug: str
    name_fi: str
    name_sv: str
    languages: tuple[str, ...]
    swedish_share: float  # of the demo patients living there


MUNICIPALITIES = (
    DemoMunicipality("399", "laihia", "Laihia", "Laihela", ("fi",), 0.02),
    DemoMunicipality("152", "isokyro", "Isokyrö", "Storkyro", ("fi",), 0.02),
    DemoMunicipality("231", "kaskinen", "Kaskinen", "Kaskö", ("fi", "sv"), 0.30),
)

# Where the demo's counselling services meet their patients (the streets are invented).
POSTAL_CODES = {"399": "66400", "152": "61500", "231": "64260"}
CLINICIANS = (("doctor", "Lääkäri"), ("nurse", "Terveydenhoitaja"), ("physiotherapist", "Fysio"))
# By language and by the invented person's sex.
GIVEN_NAMES = {
    ("fi", "female"): ("Aino", "Helmi", "Kerttu", "Saara", "Lempi", "Anna", "Elli", "Iida", "Ella"),
    ("fi", "male"): ("Eino", "Väinö", "Onni", "Toivo", "Matti", "Veikko", "Aapo", "Lauri", "Juho"),
    ("sv", "female"): ("Astrid", "Ebba", "Ingrid", "Sigrid", "Elsa", "Greta", "Maja", "Linnea"),
    ("sv", "male"): ("Bengt", "Gunnar", "Nils", "Tor", "Erik", "Olof", "Axel", "Hugo"),
}
FAMILY_NAMES_FI = ("Mäkinen", "Koskinen", "Heikkilä", "Järvinen", "Lehtonen", "Niemi", "Salo")
FAMILY_NAMES_SV = ("Lindqvist", "Björk", "Holmström", "Nyman", "Sjöberg", "Strand", "Wikström")


@dataclass(frozen=True)
class DemoPatient:
    hetu: str
    given_name: str
    family_name: str
    home_municipality_code: str
    language: str
    phone: str | None
    sex: Sex = "unknown"

    @property
    def birth_date(self) -> date:
        return parse_hetu(self.hetu).birth_date

    def registration(self) -> PatientCreate:
        """What a clinician types in to register them."""
        return PatientCreate(**asdict(self))


def demo_patients() -> list[DemoPatient]:
    """The 50 demo patients, the same every time: all ages, both sexes, both languages."""
    rng = random.Random(2449)

    def numbered(index: int) -> Callable[[date], int]:
        return lambda _born: 900 + index * 2 + rng.randint(0, 1)

    return [
        synthetic_patient(rng, MUNICIPALITIES[index % len(MUNICIPALITIES)], numbered(index))
        for index in range(PATIENT_COUNT)
    ]


def synthetic_patient(
    rng: random.Random, municipality: DemoMunicipality, individual_number: Callable[[date], int]
) -> DemoPatient:
    """An invented person living in the municipality, of any age from 3 to 92, speaking its
    languages in the demo's shares, with an identity code from the range for tests and a sex as
    their record states it, and a given name to match. The sex is drawn with the individual
    number, as codes issued before the identity-code reform had it (odd for a man), so the demo
    stays the same; Askel itself reads no sex from the code."""
    # Children and families, young people, adults and the elderly all get counselling.
    age_days = rng.randint(3 * 365, 92 * 365)
    birth_date = date(2026, 6, 1) - timedelta(days=age_days)
    swedish = rng.random() < municipality.swedish_share
    number = individual_number(birth_date)
    sex: Sex = "male" if number % 2 else "female"
    return DemoPatient(
        hetu=make_hetu(birth_date, number),
        sex=sex,
        given_name=rng.choice(GIVEN_NAMES["sv" if swedish else "fi", sex]),
        family_name=rng.choice(FAMILY_NAMES_SV if swedish else FAMILY_NAMES_FI),
        home_municipality_code=municipality.code,
        language="sv" if swedish else "fi",
        phone=f"+35840{rng.randint(1000000, 9999999)}" if rng.random() < 0.8 else None,
    )


# THL's SOTE organisation register names a unit 1.2.246.10.<business id>.10.<number>; the
# demo's business id 9999999-9 is invented, as every contact in the demo is, and so are the
# Terhikki numbers its clinicians carry.
DEMO_OID_ROOT = "1.2.246.10.99999999.10"


def is_seeded(session: Session) -> bool:
    return (
        session.scalar(select(Organisation.id).where(Organisation.code == REGION_CODE)) is not None
    )


def seed(session: Session, progress: Callable[[int], None] | None = None) -> bool:
    """Add the demo data unless it is there already; True when it was added."""
    if is_seeded(session):
        return False
    region = Organisation(
        code=REGION_CODE,
        kind=OrganisationKind.region,
        name_fi="Pohjanmaan hyvinvointialue",
        name_sv="Österbottens välfärdsområde",
        official_languages=["fi", "sv"],
        oid=f"{DEMO_OID_ROOT}.0",
    )
    session.add(region)
    session.flush()
    _user(session, "admin.region", "Alueen käyttöoikeushallinta", region, ["access_admin"])
    _user(session, "auditor.region", "Alueen tietosuojavastaava", region, ["auditor"])
    _user(session, "statistician.region", "Alueen tilastoija", region, ["statistician"])
    _user(session, "steward.region", "Alueen tietopalvelu", region, ["data_steward"])
    _user(session, "patient-system", "Alueen potilastietojärjestelmä", region, ["integration"])
    for municipality in MUNICIPALITIES:
        _seed_municipality(session, region, municipality)
    for demo in demo_patients():
        _patient(session, demo)
        if progress is not None:
            progress(1)
    session.flush()
    return True


def _seed_municipality(session: Session, region: Organisation, demo: DemoMunicipality) -> None:
    municipality = Organisation(
        code=f"kunta-{demo.code}",
        kind=OrganisationKind.municipality,
        name_fi=f"{demo.name_fi}n kunta" if demo.slug != "kaskinen" else "Kaskisten kaupunki",
        name_sv=f"{demo.name_sv} kommun" if demo.slug != "kaskinen" else "Kaskö stad",
        municipality_code=demo.code,
        official_languages=list(demo.languages),
        oid=f"{DEMO_OID_ROOT}.{demo.code}",
    )
    station = Organisation(
        code=f"ts-{demo.slug}",
        kind=OrganisationKind.unit,
        name_fi=f"{demo.name_fi} terveysasema",
        name_sv=f"{demo.name_sv} hälsostation",
        parent_id=region.id,
        oid=f"{DEMO_OID_ROOT}.{demo.code}.1",
    )
    session.add_all([municipality, station])
    session.flush()
    service = CounsellingService(
        code=f"ln-{demo.slug}",
        municipality_id=municipality.id,
        name_fi=f"{demo.name_fi} liikuntaneuvonta",
        name_sv=f"{demo.name_sv} motionsrådgivning",
        languages=[*demo.languages, "en"],
        modes=["in_person", "phone", "video", "group"],
        locations=[
            {
                "name": f"{demo.name_fi} liikuntahalli",
                "municipality_code": demo.code,
                "address": f"Urheilutie 1, {POSTAL_CODES[demo.code]} {demo.name_fi}",
                # A bilingual municipality's places have a Swedish name and address too.
                **(
                    {
                        "name_sv": f"{demo.name_sv} idrottshall",
                        "address_sv": f"Idrottsvägen 1, {POSTAL_CODES[demo.code]} {demo.name_sv}",
                    }
                    if "sv" in demo.languages
                    else {}
                ),
                # Invented, as every contact in the demo is.
                "phone": f"+358400000{demo.code}",
            }
        ],
        catchment=[ServiceCatchment(municipality_code=demo.code)],
        oid=f"{DEMO_OID_ROOT}.{demo.code}.2",
    )
    session.add(service)
    session.flush()
    for number, (profession, title) in enumerate(CLINICIANS, start=1):
        username = f"{profession}.{demo.slug}"
        display = f"{title} {demo.name_fi}"
        user = _user(session, username, display, station, ["clinician"], profession=profession)
        user.register_number = f"9{demo.code}{number:04d}"
    for number in (1, 2):
        counsellor = _user(
            session,
            f"counsellor{number}.{demo.slug}",
            f"Liikuntaneuvoja {number} {demo.name_fi}",
            municipality,
            ["counsellor"],
            profession="counsellor",
            service=service,
        )
        session.flush()
        session.add(
            AccessGrant(
                user_id=counsellor.id,
                service_id=service.id,
                valid_from=date(2024, 1, 1),
                valid_until=date(2030, 12, 31),
                granted_by="admin.region",
                attested_by=f"admin.{demo.slug}",
                attested_at=utcnow(),
            )
        )
    statistician_name = f"Tilastoija {demo.name_fi}"
    _user(session, f"statistician.{demo.slug}", statistician_name, municipality, ["statistician"])
    admin_name = f"Käyttöoikeushallinta {demo.name_fi}"
    _user(session, f"admin.{demo.slug}", admin_name, municipality, ["access_admin"])


def _user(
    session: Session,
    username: str,
    display_name: str,
    organisation: Organisation,
    roles: list[str],
    *,
    profession: str | None = None,
    service: CounsellingService | None = None,
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        organisation_id=organisation.id,
        roles=roles,
        profession=profession,
        service_id=service.id if service else None,
    )
    session.add(user)
    return user


def _patient(session: Session, demo: DemoPatient) -> None:
    patient_service.register(session, DEMO_DATA_LOADER, demo.registration())
