"""Who is referred when, by whom, and how each referral is to end: about four referrals a
month from each municipality's health station (fewer in July and over Christmas), each way of ending
in its share, the first ones ending each way once whatever the draw, and the last working
days' referrals placed so that today finds one in each open state."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta

from app.demo import region
from app.demo.region import DemoMunicipality, DemoPatient
from app.demo.world import FATES, Fate, Service, Story
from app.kit.clock import HELSINKI
from app.kit.public_holidays import is_working_day

# Referrals a working day from each municipality's health station, on average.
REFERRALS_A_DAY = 0.18
# Of the referrals, how many are of the demo's own 50 patients (looked up, not registered).
OWN_PATIENTS = 0.15
# The README's walk-through registers this patient: the history leaves them to it.
WALKTHROUGH_HETU = "150377-9974"


def plan(rng: random.Random, services: list[Service], first: date, last: date) -> list[Story]:
    """The referrals sent from `first` to the day before `last`, in the order they are sent."""
    own = region.demo_patients()
    taken = {patient.hetu for patient in own} | {WALKTHROUGH_HETU}
    unreferred = {
        service.municipality.code: [
            p for p in own if p.home_municipality_code == service.municipality.code
        ]
        for service in services
    }
    every_fate = iter(Fate)
    stories = []
    day = first
    while day < last:
        if is_working_day(day):
            for service in services:
                for _ in range(_poisson(rng, REFERRALS_A_DAY * _season(day))):
                    fate = (
                        next(every_fate, None) or rng.choices(list(FATES), list(FATES.values()))[0]
                    )
                    mine = unreferred[service.municipality.code]
                    if mine and rng.random() < OWN_PATIENTS:
                        person, registered = mine.pop(rng.randrange(len(mine))), True
                    else:
                        person, registered = _new_person(rng, service.municipality, taken), False
                    stories.append(
                        _story(rng, service, _office_hours(rng, day), person, registered, fate)
                    )
        day += timedelta(days=1)
    return stories + _today_finds(rng, services[0], last, taken)


def _story(
    rng: random.Random,
    service: Service,
    sent_at: datetime,
    person: DemoPatient,
    registered: bool,
    fate: Fate,
    **timing: int,
) -> Story:
    # A referral the service will not take is one the clinician did not book for.
    by_service = fate in (Fate.rejected, Fate.returned) or rng.random() < 0.2
    return Story(
        service=service,
        sent_at=sent_at,
        clinician=rng.choices(service.clinicians, (4, 4, 2))[0],
        person=person,
        registered=registered,
        fate=fate,
        by_service=bool(timing.pop("by_service", by_service)),
        open_after=timing.pop("open_after", rng.randint(1, 3)),
        book_after=timing.pop("book_after", rng.randint(1, 3)),
        **timing,
    )


def _today_finds(rng: random.Random, service: Service, last: date, taken: set[str]) -> list[Story]:
    """Referrals of the last working days, each caught today in an open state."""
    before = [
        day for day in (last - timedelta(days=n) for n in range(1, 60)) if is_working_day(day)
    ]

    def story(working_days_ago: int, **timing: int) -> Story:
        sent_at = datetime.combine(before[working_days_ago - 1], time(10, 30), HELSINKI)
        person = _new_person(rng, service.municipality, taken)
        return _story(rng, service, sent_at, person, False, Fate.counselled, **timing)

    return [
        story(1, open_after=1),  # sent: nobody has opened it yet
        story(2, open_after=1, decide_after=2),  # received: opened, not decided on
        story(3, by_service=True, open_after=1, book_after=3),  # accepted: the service to book
        story(4, open_after=1, first_visit_after=14),  # accepted: the first visit ahead
        story(25, open_after=1),  # in progress: follow-ups ahead
    ]


def _new_person(rng: random.Random, municipality: DemoMunicipality, taken: set[str]) -> DemoPatient:
    while True:
        person = region.synthetic_patient(rng, municipality, lambda _born: rng.randint(900, 999))
        if person.hetu not in taken:
            taken.add(person.hetu)
            return person


def _office_hours(rng: random.Random, day: date) -> datetime:
    minute = rng.randrange(8 * 60, 15 * 60 + 30)
    return datetime.combine(day, time(minute // 60, minute % 60), HELSINKI)


def _season(day: date) -> float:
    """Fewer referrals while the health station is on holiday."""
    if day.month == 7:
        return 0.5
    if (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 6):
        return 0.4
    return 1.0


def _poisson(rng: random.Random, mean: float) -> int:
    """How many referrals a day brings (Knuth's method)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
