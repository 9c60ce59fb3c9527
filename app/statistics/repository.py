"""The statistics queries: one grouped aggregate over the facts each, the cells and the total
in a single pass on PostgreSQL (grouping sets), in two on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    case,
    func,
    literal,
    literal_column,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import expression

from app.kit.clock import helsinki_midnight
from app.statistics.models import ReferralFact, VisitFact

Fact = type[VisitFact] | type[ReferralFact]
SORT_MEMORY = "256MB"


def groupings(fact: Fact) -> dict[str, tuple[Any, ...]]:
    """Each grouping's columns on a fact (none for the region: the same for every row)."""
    return {
        "year": (fact.year,),
        "quarter": (fact.year, fact.quarter),
        "month": (fact.year, fact.month),
        "region": (),
        "municipality": (fact.municipality,),
        "service": (fact.service_id,),
        "referrer_profession": (fact.referrer_profession,),
        "age_band": (fact.age_band,),
        "sex": (fact.sex,),
        "language": (fact.language,),
    }


VISIT_GROUPS = {
    **groupings(VisitFact),
    "contact_type": (VisitFact.contact_type,),
    "counsellor_profession": (VisitFact.counsellor_profession,),
    "thl_contact_type": (VisitFact.thl_contact_type,),
    # Every counselling visit is of the same THL service class: one value, no column.
    "thl_service_class": (),
    "visit_order": (VisitFact.visit_order,),
    "thl_occupation": (VisitFact.thl_occupation,),
    "family_visit": (VisitFact.family_visit,),
}
REFERRAL_GROUPS = groupings(ReferralFact)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose facts: everyone's (the region), or one municipality's residents."""

    municipality_code: str | None


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A table's cells (the grouped columns first, in order) and its total."""

    cells: Sequence[Any]
    total: Any


def _aggregate(
    session: Session, columns: list[Any], measures: list[Any], conditions: list[Any]
) -> Aggregate:
    if not columns:
        # Grouped by nothing (or by the region alone): one cell, the whole.
        whole = session.execute(select(*measures).where(*conditions)).one()
        return Aggregate(cells=[whole], total=whole)
    cells = select(*columns, *measures).where(*conditions).order_by(*columns)
    _remember_sorts(session)
    if session.get_bind().dialect.name == "postgresql":
        # One scan for the cells and the total; GROUPING() tells the total's row apart from a
        # cell whose values are all NULL.
        rows = session.execute(
            cells.add_columns(func.grouping(*columns).label("is_total")).group_by(
                func.grouping_sets(tuple_(*columns), tuple_())
            )
        ).all()
        return Aggregate(
            cells=[row for row in rows if not row.is_total],
            total=next(row for row in rows if row.is_total),
        )
    return Aggregate(
        cells=session.execute(cells.group_by(*columns)).all(),
        total=session.execute(select(*measures).where(*conditions)).one(),
    )


def _in_scope(fact: Fact, scope: Scope) -> list[ColumnElement[bool]]:
    if scope.municipality_code is None:
        return []
    return [fact.municipality == scope.municipality_code]


def visit_counts(
    session: Session, groups: Sequence[str], visited_from: date, visited_to: date, scope: Scope
) -> Aggregate:
    """Visits and distinct patients per combination of the groups' values, and in all.

    Both are counted from the visits first counted per patient (and cell): on PostgreSQL each
    partition of the facts (see `VISIT_FACT_PARTITIONS`) is counted on its own, in parallel,
    and the partitions' counts are added up, since a patient lies in one partition only."""
    columns = [column for group in groups for column in VISIT_GROUPS[group]]
    conditions = [
        VisitFact.visited_on >= visited_from,
        VisitFact.visited_on <= visited_to,
        *_in_scope(VisitFact, scope),
    ]
    _remember_sorts(session)
    total = _patients_and_visits([], conditions)
    if not columns:
        only = session.execute(total).one()
        return Aggregate(cells=[only], total=only)
    cells = _patients_and_visits(columns, conditions)
    positions: list[ColumnElement[Any]] = [
        literal_column(str(number)) for number in range(1, len(columns) + 1)
    ]
    whole = total.subquery("whole")
    rows: Sequence[Any] = session.execute(
        union_all(
            cells.add_columns(literal(False).label("is_total")),
            select(*[null() for _ in columns], *whole.c, literal(True)),
        ).order_by(*positions)
    ).all()
    return Aggregate(
        cells=[row for row in rows if not row.is_total],
        total=next(row for row in rows if row.is_total),
    )


def _patients_and_visits(
    columns: Sequence[ColumnElement[Any]], conditions: Sequence[ColumnElement[bool]]
) -> Select[Any]:
    """Visits and distinct patients per cell of these columns (without columns, in all), and
    the sums of their record keys."""
    per_patient = (
        select(
            *columns,
            VisitFact.patient_id,
            func.count().label("visits"),
            func.sum(VisitFact.visit_key).label("visit_keys"),
            func.max(VisitFact.patient_key).label("patient_key"),
        )
        .where(*conditions)
        .group_by(*columns, VisitFact.patient_id)
        .subquery("per_patient")
    )
    grouped = [per_patient.c[column.name] for column in columns]
    return select(
        *grouped,
        _total(per_patient.c.visits).label("visits"),
        func.count().label("patients"),
        _total(per_patient.c.visit_keys).label("visit_keys"),
        _total(per_patient.c.patient_key).label("patient_keys"),
    ).group_by(*grouped)


def _remember_sorts(session: Session) -> None:
    """The distinct counts hash or sort a period's facts: in memory, not in files on disk
    (for this transaction only; PostgreSQL's 4 MB default is made for many small queries)."""
    if session.get_bind().dialect.name == "postgresql":
        # `set_config(…, true)` is SET LOCAL: the three settings in one round trip.
        session.execute(
            select(
                func.set_config("work_mem", SORT_MEMORY, True),
                func.set_config("enable_partitionwise_aggregate", "on", True),
                # A plan for each period asked: psycopg prepares a statement run five times,
                # and a plan made once for a month's facts reads a year's several times slower.
                func.set_config("plan_cache_mode", "force_custom_plan", True),
            )
        )


class percentile(expression.FunctionElement[float]):
    """The value below which a share of the values fall, linear between neighbours (NULLs
    skipped): `percentile(values, 0.9)`."""

    type = Float()
    inherit_cache = True


@compiles(percentile, "postgresql")
def _percentile_postgresql(element: percentile, compiler: Any, **kw: Any) -> str:
    values, share = list(element.clauses)
    return (
        f"percentile_cont({compiler.process(share, **kw)})"
        f" WITHIN GROUP (ORDER BY {compiler.process(values, **kw)})"
    )


@compiles(percentile)
def _percentile_sqlite(element: percentile, compiler: Any, **kw: Any) -> str:
    # An aggregate of the same name and meaning that `app.db` gives every SQLite connection.
    return f"percentile_cont({compiler.process(element.clauses, **kw)})"


def _total(column: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0)


def _patients_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """Distinct patients of the referrals that meet the condition."""
    return func.count(case((condition, ReferralFact.patient_id)).distinct())


FUNNEL_STEPS = ("accepted", "rejected", "returned", "booked", "first_visit", "completed",
                "cancelled", "attended", "no_show")  # fmt: skip


def referral_funnel(
    session: Session, groups: Sequence[str], sent_from: date, sent_to: date, scope: Scope
) -> Aggregate:
    """The service chain per combination of the groups' values, and in all: referrals sent and
    each step's count with the sum of its records' keys (`sent_keys`, `accepted_keys`, …), the
    waiting time to the first visit (median, 90th percentile) and the median change in
    activity, each with the number of patients it rests on."""
    fact = ReferralFact
    columns = [column for group in groups for column in REFERRAL_GROUPS[group]]
    measures = [
        func.count().label("sent"),
        *[_total(getattr(fact, step)).label(step) for step in FUNNEL_STEPS],
        _total(fact.referral_key).label("sent_keys"),
        # A referral's appointments (attended, missed) add its key once for each.
        *[
            _total(getattr(fact, step) * fact.referral_key).label(f"{step}_keys")
            for step in FUNNEL_STEPS
        ],
        _patients_where(fact.attended + fact.no_show > 0).label("marked_patients"),
        _patients_where(fact.wait_days.is_not(None)).label("waited_patients"),
        _patients_where(fact.minutes_change.is_not(None)).label("changed_patients"),
        percentile(fact.wait_days, 0.5).label("waiting_days_median"),
        percentile(fact.wait_days, 0.9).label("waiting_days_p90"),
        percentile(fact.minutes_change, 0.5).label("activity_change_median"),
    ]
    # Referrals sent on the Helsinki days from `sent_from` to `sent_to`.
    conditions = [
        fact.sent_at >= helsinki_midnight(sent_from),
        fact.sent_at < helsinki_midnight(sent_to + timedelta(days=1)),
    ]
    return _aggregate(session, columns, measures, conditions + _in_scope(fact, scope))
