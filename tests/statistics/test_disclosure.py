"""An attacker with nothing but a statistician's rights, against the demo's year of history:
no count of 1-4 may be worked out from what the statistics publish, to one value or to two.

The tables (tests/fixtures/disclosure.py `family`). Of one calendar year (the one the history
covers the most of): every grouping by up to two of the dimensions (none, i.e. the whole region
or municipality; one; two) for each of the 12 months, the 4 quarters and the year. A grouping
is asked over the year, and by month and by quarter over the year, which lists the same cells
as its twelve monthly and four quarterly tables in two queries instead of sixteen; a grouping
by up to one dimension is also asked for each month and quarter apart, and by month over each
quarter, so that the same cells come both ways. Visits through `service.visits`; the funnel
through `service.referrals`, each of `STAGES` a count of its own. As the region's statistician,
and as the smallest municipality's (for whom grouping by municipality adds nothing, and is left
out).

The reading. Every figure is an interval on the true count of its cell: a published value `v`
as `v - MAXIMUM_NOISE .. v + MAXIMUM_NOISE` (at least 1: only a nonzero count is published as a
number), `<5` as `0 .. SMALLEST_SHOWN - 1 + MAXIMUM_NOISE` (an empty cell shows as `<5` too), a
0 as exactly 0, a cell that a table does not list as 0. Visits and funnel stages add up over
cells; patients do not (a person can be in two cells), so a cell's patients only lift the lower
bound of its visits (and of a referral cell's `sent`), which are at least as many.

The linear programmes. The finest cells, month x every dimension, are far too many for one
programme. So there is one for each measure and pair (a, b) of dimensions, whose variables are
the true non-negative counts of the cells month x a x b. Every table is projected onto the
pair: a table over (a, c) summed over c gives an interval on each (a) margin whose bounds are
the sums of the summed cells' bounds; a table over (c, d), its total. Where several figures
bound the same cell, the narrowest bounds are kept; a figure of one variable bounds that
variable; every variable inside a figure of exactly 0 is fixed at 0 and left out. Each
programme is a sound attacker on its own (its constraints hold for the truth), so a narrowing
that any of them finds is a disclosure.

The search. Before it solves, the attacker checks that the truth (the facts, read directly)
meets every constraint: a figure read wrong, or projected wrong, fails there rather than as a
narrowing. Every cell of a pair's programme (finest or coarser) whose true count is 1-4 is a
target: it is narrowed if fewer than three integers lie between its least and greatest value
(`scipy.optimize.linprog`, HiGHS). The truth is one allowed point, so a target is settled as
soon as some allowed point lies two or more from it: points that push all unsettled targets
up, and down, together (every programme side by side as one) settle nearly all of them; the
few left are minimised and maximised alone.

The same attacker against the old method (line-by-line small-cell suppression, copied here as
it was: exact figures, cells of 1-4 patients hidden with their complements along every line and
the total, empty cells left out) works at least one small count out exactly: the test can fail.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.organisations import service as organisations
from app.statistics import service
from app.statistics.facts import AGE_BAND_LABELS, CONTACT_TYPES, PROFESSIONS, SEXES
from app.statistics.models import ReferralFact, VisitFact
from app.statistics.perturbation import HIDDEN, MAXIMUM_NOISE, SMALLEST_SHOWN
from app.statistics.repository import FUNNEL_STEPS
from app.statistics.schemas import FUNNEL
from tests.fixtures.demo_history import Seeded
from tests.fixtures.disclosure import (
    Count,
    Interval,
    Label,
    Narrowing,
    Published,
    Publisher,
    Record,
    Report,
    Table,
    attack,
)
from tests.fixtures.principals import principal_for

VISIT_DIMS = ("municipality", "service", "contact_type", "counsellor_profession",
              "referrer_profession", "age_band", "sex", "language")  # fmt: skip
REFERRAL_DIMS = ("municipality", "service", "referrer_profession", "age_band", "sex", "language")
VOCABULARIES = {
    "contact_type": CONTACT_TYPES, "counsellor_profession": PROFESSIONS,
    "referrer_profession": PROFESSIONS, "age_band": AGE_BAND_LABELS, "sex": SEXES,
}  # fmt: skip
# The region's statistician, and the smallest municipality's.
STATISTICIANS = ("statistician.region", "statistician.kaskinen")


@dataclass
class Truth:
    """The year's facts as the attacker's records, labelled as the statistics label them."""

    year: int
    municipality: str | None
    visits: list[Record] = field(default_factory=list)
    referrals: list[Record] = field(default_factory=list)

    @property
    def dims(self) -> dict[str, tuple[str, ...]]:
        # One municipality's residents: grouping by municipality adds nothing.
        drop = {"municipality"} if self.municipality else set()
        return {
            "visits": tuple(d for d in VISIT_DIMS if d not in drop),
            "referrals": tuple(d for d in REFERRAL_DIMS if d not in drop),
        }


def load(session: Session, year: int, municipality: str | None) -> Truth:
    """The visits and referrals of the year (of one municipality's residents, if named), read
    from the facts."""
    services = organisations.service_codes(session)

    def label(dim: str, value: Any) -> Label:
        if dim in VOCABULARIES:
            return VOCABULARIES[dim].label(value)
        if dim == "service":
            return services.get(value)
        return None if value is None else str(value)

    truth = Truth(year, municipality)
    for fact, dims, kind in ((VisitFact, VISIT_DIMS, "visits"),
                             (ReferralFact, REFERRAL_DIMS, "referrals")):  # fmt: skip
        columns = [getattr(fact, "service_id" if d == "service" else d) for d in dims]
        counts = [] if fact is VisitFact else [getattr(fact, step) for step in FUNNEL_STEPS]
        where = [fact.year == year]
        if municipality is not None:
            where.append(fact.municipality == municipality)
        query = select(fact.month, fact.patient_id, *columns, *counts).where(*where)
        for month, patient, *values in session.execute(query):
            labels = {d: label(d, v) for d, v in zip(dims, values[: len(dims)], strict=True)}
            steps = dict(zip(FUNNEL_STEPS, values[len(dims) :], strict=False))
            measures = {"visits": 1} if fact is VisitFact else {"sent": 1, **steps}
            getattr(truth, kind).append(Record(month, labels, measures, patient))
    return truth


class Perturbed:
    """The statistics as the service publishes them to the statistician."""

    def __init__(self, session: Session, principal: Principal, year: int) -> None:
        self.session, self.principal, self.year = session, principal, year

    def publish(self, kind: str, table: Table) -> Published:
        first = date(self.year, table.months[0], 1)
        last_month = table.months[-1]
        last = date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])
        if kind == "visits":
            visits = service.visits(self.session, self.principal, table.groups, first, last)
            return Published(
                [(c.groups, {"visits": c.visits, "patients": c.patients}) for c in visits.cells],
                {"visits": visits.total.visits, "patients": visits.total.patients},
            )
        funnel = service.referrals(self.session, self.principal, table.groups, first, last)
        return Published([(c.groups, dict(c.counts)) for c in funnel.cells],
                         dict(funnel.total.counts))  # fmt: skip

    def interval(self, figure: Count, measure: str) -> Interval:
        if figure == HIDDEN:  # a count published under five: an empty cell's too
            return 0, SMALLEST_SHOWN - 1 + MAXIMUM_NOISE
        assert isinstance(figure, int), figure
        return (0, 0) if figure == 0 else (max(1, figure - MAXIMUM_NOISE), figure + MAXIMUM_NOISE)


@dataclass
class _Cell:
    key: tuple[str, ...]
    people: int
    suppressed: bool = False


def _is_small(people: int) -> bool:
    return 0 < people < SMALLEST_SHOWN


def _suppress(cells: Sequence[_Cell]) -> None:
    """Line-by-line suppression as Askel published before the cell key method: cells of 1-4
    patients hidden, and along every line (and the whole table, whose total is shown) a lone
    hidden cell joined by its smallest shown neighbour, until no line has one."""
    for cell in cells:
        cell.suppressed = _is_small(cell.people)
    lines: list[list[_Cell]] = []
    for along in range(len(cells[0].key) if cells else 0):
        grouped: dict[tuple[str, ...], list[_Cell]] = defaultdict(list)
        for cell in cells:
            grouped[cell.key[:along] + cell.key[along + 1 :]].append(cell)
        lines += grouped.values()
    lines.append(list(cells))
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if cell.suppressed]
            shown = [cell for cell in line if not cell.suppressed]
            if len(hidden) == 1 and shown:
                min(shown, key=lambda cell: (cell.people, cell.key)).suppressed = True
                changed = True


class Suppressed:
    """The old method, applied per table to the true counts: exact figures, small cells and
    their complements hidden, empty cells not listed."""

    def __init__(self, truth: Truth) -> None:
        self.truth = truth

    def _time(self, table: Table, month: int) -> tuple[str, ...]:
        if table.time == "month":
            return (f"{self.truth.year}-{month:02d}",)
        if table.time == "quarter":
            return (f"{self.truth.year}-Q{(month + 2) // 3}",)
        return ()

    def publish(self, kind: str, table: Table) -> Published:
        grouped: dict[tuple[Label, ...], list[Record]] = defaultdict(list)
        for record in getattr(self.truth, kind):
            if record.month in table.months:
                labels = tuple(record.labels[d] for d in table.dims)
                grouped[self._time(table, record.month) + labels].append(record)
        keys = sorted(grouped, key=lambda key: [(v is None, v or "") for v in key])
        cells = [_Cell(tuple(map(str, k)), len({r.patient for r in grouped[k]})) for k in keys]
        _suppress(cells)
        everyone = [record for key in keys for record in grouped[key]]
        measures = ("visits",) if kind == "visits" else FUNNEL
        return Published(
            [(dict(zip(table.groups, key, strict=True)),
              self._figures(grouped[key], measures, cell.suppressed))
             for key, cell in zip(keys, cells, strict=True)],
            self._figures(everyone, measures, _is_small(len({r.patient for r in everyone}))),
        )  # fmt: skip

    @staticmethod
    def _figures(records: list[Record], measures: Sequence[str], hidden: bool) -> dict[str, Count]:
        totals = {measure: sum(r.counts[measure] for r in records) for measure in measures}
        totals["patients"] = len({record.patient for record in records})
        return {measure: HIDDEN if hidden else count for measure, count in totals.items()}

    def interval(self, figure: Count, measure: str) -> Interval:
        if figure != HIDDEN:
            assert isinstance(figure, int), figure
            return figure, figure
        # Hidden: 1-4 patients, whose visits or referrals are at least as many.
        return {"patients": (1, 4), "visits": (1, float("inf")), "sent": (1, float("inf"))}.get(
            measure, (0, float("inf"))
        )


# The funnel's stages attacked (each a count of its own): referrals sent, the first steps, a
# rare outcome, and missed appointments, which a referral can have several of.
STAGES = ("sent", "accepted", "rejected", "booked", "no_show")


def _truth(session: Session, seeded: Seeded, principal: Principal) -> Truth:
    municipality = organisations.municipality_code_of(session, principal.organisation)
    return load(session, seeded.fullest_year, municipality)


def _attacked(publisher: Publisher, truth: Truth, until_exact: bool = False) -> list[Report]:
    return [
        attack(publisher, "visits", truth.dims["visits"], ["visits"], truth.visits, until_exact),
        attack(publisher, "referrals", truth.dims["referrals"], STAGES, truth.referrals,
               until_exact),
    ]  # fmt: skip


def _shown(narrowings: list[Narrowing]) -> str:
    return "\n".join(map(str, narrowings[:20]))


@pytest.mark.parametrize("username", STATISTICIANS)
def test_no_small_count_can_be_worked_out_from_the_published_tables(
    seeded: Seeded, username: str
) -> None:
    with seeded.database.write_sessions() as session:
        principal = principal_for(session, username)
        truth = _truth(session, seeded, principal)
        reports = _attacked(Perturbed(session, principal, truth.year), truth)
        session.rollback()  # the queries' audit entries
    assert all(report.targets for report in reports)  # small counts were there to find
    narrowed = [narrowing for report in reports for narrowing in report.narrowings]
    assert not narrowed, _shown(narrowed)


@pytest.mark.parametrize("username", STATISTICIANS)
def test_the_same_attacker_works_small_counts_out_of_line_by_line_suppression(
    seeded: Seeded, username: str
) -> None:
    with seeded.database.read_sessions() as session:
        truth = _truth(session, seeded, principal_for(session, username))
    reports = _attacked(Suppressed(truth), truth, until_exact=True)
    exact = [narrowing for report in reports for narrowing in report.narrowings if narrowing.exact]
    assert exact
    # Worked out right: the one value left is the truth.
    assert all(narrowing.low == narrowing.truth for narrowing in exact), _shown(exact)
