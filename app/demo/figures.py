"""What the demo's people write: the clinician's referral, and on the counselling tab each
client's activity figures when first seen and how far counselling moves them, visit by visit,
towards the goals of the plan agreed with them. Children, adults and the elderly each get
figures of their own kind."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from app.classifications.contact_modes import ContactMode
from app.counselling.schemas import (
    ContactType,
    FitnessTest,
    Goal,
    PlanIn,
    PlannedActivity,
    StageOfChange,
    VisitIn,
)
from app.patients.ages import age_on
from app.referrals.schemas import DiagnosisCode, ReferralCreate

# (ICD-10, ICPC-2, why, the goal) by age group.
REASONS = {
    "child": (("E66.9", "T82", "Lapsen ylipaino, liikkuu vähän.",
               "Koko perheen yhteinen liikunta, tunti päivässä."),),
    "adult": (("E11.9", "T90", "Tyypin 2 diabetes, liikunta vähäistä.",
               "Verensokeritasapaino paremmaksi liikunnalla."),
              ("I10", "K86", "Kohonnut verenpaine.", "150 minuuttia reipasta liikuntaa viikossa."),
              ("E66.9", "T82", "Ylipaino, painoindeksi 32.", "Arkiliikuntaa lisää, paino alas."),
              ("M54.5", "L03", "Toistuva alaselkäkipu.", "Selän tukilihakset vahvemmiksi."),
              ("F32.9", "P76", "Masennus; liikunta osana hoitoa.", "Säännöllinen liikunta.")),
    "elderly": (("R26.8", None, "Tasapaino heikentynyt, kaatumisriski.",
                 "Tasapaino ja lihasvoima paremmiksi."),
                ("I10", "K86", "Kohonnut verenpaine.", "Päivittäinen kävely.")),
}  # fmt: skip
STAGES: tuple[StageOfChange, ...] = (
    "precontemplation", "contemplation", "preparation", "action", "maintenance",
)  # fmt: skip
# (what, where) by age group; the counsellor suggests what the municipality offers.
ACTIVITIES = {
    "child": (("Pallopelit", "Seuran harrasteryhmä"), ("Uinti", "Uimahalli"),
              ("Pyöräily koulumatkoilla", None), ("Temppujumppa", "Liikuntahalli")),
    "adult": (("Reipas kävely", None), ("Kuntosali", "Kunnan kuntosali"),
              ("Vesijumppa", "Uimahalli"), ("Sauvakävely", None), ("Pyöräily", None),
              ("Tanssi", "Kansalaisopisto")),
    "elderly": (("Tasapainoryhmä", "Voimaa vanhuuteen -ryhmä"), ("Kävely", None),
                ("Kuntosali", "Seniorikuntosali"), ("Vesijumppa", "Uimahalli")),
}  # fmt: skip
BARRIERS = {
    "fi": ("Vuorotyö ja väsymys", "Polvikipu rasituksessa", "Ei tiedä, mistä aloittaa",
           "Yksin liikkuminen ei motivoi", "Pitkät välimatkat liikuntapaikoille"),
    "sv": ("Skiftarbete och trötthet", "Knäsmärta vid belastning", "Vet inte var man ska börja",
           "Att motionera ensam motiverar inte"),
}  # fmt: skip
RESOURCES = {
    "fi": ("Koira, jota ulkoilutetaan päivittäin", "Puoliso lähtee mukaan", "Aiempi "
           "harrastustausta", "Hyvä lähiliikuntapaikka"),
    "sv": ("Hund som rastas dagligen", "Maken följer med", "Tidigare idrottsbakgrund"),
}  # fmt: skip
NOTES = {
    "fi": ("Kävelyt ovat lähteneet hyvin käyntiin.", "Kuntosaliohjaus sovittu.",
           "Motivaatio vaihtelee, tavoitetta kevennetty.", "Liikkuminen on vakiintunut."),
    "sv": ("Promenaderna har kommit i gång.", "Handledning på gymmet avtalad.",
           "Motivationen varierar, målet har lättats upp."),
}  # fmt: skip


DURATIONS: dict[ContactType, int] = {"group": 90, "phone": 20}


@dataclass(frozen=True, slots=True)
class Mover:
    """A client as first seen, and how much of the way to the goals counselling takes them."""

    group: str  # child | adult | elderly
    language: str
    days: int
    minutes: int
    strength_days: int
    sitting: float
    uptake: float
    weight: float
    waist: float
    systolic: int
    diastolic: int


def mover(rng: random.Random, birth_date: date, on: date, language: str) -> Mover:
    group = group_of(birth_date, on)
    weight = rng.uniform(25, 55) if group == "child" else rng.uniform(62, 118)
    return Mover(
        group=group,
        language="sv" if language == "sv" else "fi",
        days=rng.randint(0, 3),
        minutes=rng.choice((10, 15, 20, 30)),
        strength_days=rng.choice((0, 0, 0, 1)),
        sitting=rng.choice((7.0, 8.0, 9.0, 10.0, 11.0)),
        # Some clients get all the way, most part of it, a few nowhere.
        uptake=min(1.0, max(0.0, rng.gauss(0.6, 0.3))),
        weight=round(weight, 1),
        waist=round(weight * 0.9 + rng.uniform(0, 15), 0),
        systolic=rng.randint(118, 162),
        diastolic=rng.randint(72, 98),
    )


def referral(
    rng: random.Random, patient_id: uuid.UUID, group: str, language: str, *, book_by_service: bool
) -> ReferralCreate:
    """A referral to counselling as a clinician writes it."""
    icd10, icpc2, why, goal = rng.choice(REASONS[group])
    codes = [DiagnosisCode(system="icd10", code=icd10)]
    if icpc2:
        codes.append(DiagnosisCode(system="icpc2", code=icpc2))
    mode: ContactMode = rng.choices(("in_person", "phone", "video"), (16, 2, 2))[0]
    return ReferralCreate(
        patient_id=patient_id,
        reason_codes=codes,
        reason_text=why,
        goal=goal,
        exercise_restrictions="Ei hyppyjä polven vuoksi." if rng.random() < 0.2 else None,
        urgency="urgent" if rng.random() < 0.08 else "routine",
        preferred_language=language,
        contact_mode=mode,
        consent_to_counselling=True,
        book_by_service=book_by_service,
    )


def group_of(birth_date: date, on: date) -> str:
    age = age_on(birth_date, on)
    return "child" if age < 16 else "elderly" if age >= 70 else "adult"


def visit(
    rng: random.Random,
    client: Mover,
    progress: float,
    *,
    visited_on: date,
    contact_type: ContactType,
    appointment_id: uuid.UUID | None = None,
    first: bool = False,
    last: bool = False,
) -> VisitIn:
    """A visit's record; `progress` is how far through the counselling it is (0 to 1)."""
    step = progress * client.uptake
    target_minutes = 60 if client.group == "child" else 35
    days = _clamp(round(client.days + (5 - client.days) * step + rng.choice((-1, 0, 0, 1))), 0, 7)
    minutes = _clamp(5 * round((client.minutes + (target_minutes - client.minutes) * step) / 5),
                     5, 120)  # fmt: skip
    measured = client.group != "child" and contact_type in ("in_person", "home_visit")
    stage = STAGES[_clamp(round(1 + 3 * step + rng.choice((-1, 0, 0))), 0, 4)]
    return VisitIn(
        visited_on=visited_on,
        contact_type=contact_type,
        duration_minutes=60 if first else DURATIONS.get(contact_type, 30),
        appointment_id=appointment_id,
        mvpa_days_per_week=days,
        mvpa_minutes_per_day=minutes if days else 0,
        strength_days_per_week=_clamp(client.strength_days + round(2 * step), 0, 7),
        sitting_hours_per_day=max(4.0, client.sitting - round(4 * step) / 2),
        stage_of_change=stage,
        barriers=rng.choice(BARRIERS[client.language]) if first else None,
        resources=rng.choice(RESOURCES[client.language]) if first else None,
        weight_kg=round(client.weight - 3 * step, 1) if measured else None,
        waist_cm=round(client.waist - 3 * step, 0) if measured else None,
        systolic_mmhg=client.systolic - round(8 * step) if measured and (first or last) else None,
        diastolic_mmhg=client.diastolic - round(4 * step) if measured and (first or last) else None,
        fitness_test=_fitness(client, step) if measured and (first or last) else None,
        note=None if first else rng.choice(NOTES[client.language]),
    )


def _fitness(client: Mover, step: float) -> FitnessTest:
    if client.group == "elderly":
        return FitnessTest(name="6 minuutin kävelytesti", value=round(380 + 60 * step), unit="m")
    return FitnessTest(name="UKK-kävelytesti", value=round(78 + 12 * step), unit="indeksi")


def goals_met(client: Mover) -> int:
    """How many of the plan's two goals the client reaches by the end."""
    return 2 if client.uptake >= 0.8 else 1 if client.uptake >= 0.5 else 0


def plan(
    rng: random.Random,
    client: Mover,
    agreed_on: date,
    follow_up_months: list[int],
    *,
    achieved: int = 0,
    change_note: str | None = None,
) -> PlanIn:
    """The plan agreed with the client: a weekly activity goal, a strength goal, what to do."""
    weekly = 420 if client.group == "child" else 150
    target_date = agreed_on + timedelta(days=30 * max(follow_up_months))
    choices = rng.sample(ACTIVITIES[client.group], 2)
    return PlanIn(
        goals=[
            Goal(
                what=f"Liikuntaa {weekly} min viikossa",
                measure="minutes_per_week",
                target=weekly,
                target_date=target_date,
                achieved=achieved >= 1,
            ),
            Goal(
                what="Lihaskuntoa kahdesti viikossa",
                measure="strength_days_per_week",
                target=2,
                target_date=target_date,
                achieved=achieved >= 2,
            ),
        ],
        activities=[
            PlannedActivity(
                kind=kind,
                frequency_per_week=rng.randint(1, 3),
                minutes=rng.choice((30, 45, 60)),
                intensity="light" if client.group == "elderly" else "moderate",
                where=where,
            )
            for kind, where in choices
        ],
        support_agreed=rng.choice(
            ("Kuntosaliohjaus kerran.", "Vertaistukiryhmä.", "Puhelinsoitto kuukauden päästä.")
        ),
        follow_up_months=follow_up_months,
        agreed_with_patient=True,
        agreed_on=agreed_on,
        agreed_how="in_person",
        change_note=change_note,
    )


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
