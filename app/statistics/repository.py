"""The statistics queries: one grouped SQL aggregate each, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    case,
    cast,
    extract,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import expression

from app.counselling.models import Visit
from app.kit.clock import helsinki_midnight
from app.organisations.models import CounsellingService
from app.patients.models import Patient
from app.referrals.models import Referral, ReferralEvent
from app.scheduling.models import Appointment


def _part(name: str, day: Any) -> ColumnElement[int]:
    return cast(extract(name, day), Integer)


def age_at(day: Any, birth: Any) -> ColumnElement[int]:
    """Whole years from `birth` to `day`: the year difference, less one before the birthday."""
    before_birthday = (_part("month", day) * 100 + _part("day", day)) < (
        _part("month", birth) * 100 + _part("day", birth)
    )
    return _part("year", day) - _part("year", birth) - case((before_birthday, 1), else_=0)


def age_band(day: Any, birth: Any) -> ColumnElement[str]:
    age = age_at(day, birth)
    return case(
        (age < 7, "0-6"), (age < 13, "7-12"), (age < 18, "13-17"), (age < 30, "18-29"),
        (age < 65, "30-64"), (age < 75, "65-74"), else_="75+",
    )  # fmt: skip


def _quarter(day: Any) -> ColumnElement[int]:
    month = _part("month", day)
    return case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)


# Each grouping: the SQL expressions grouped by (none: the same for every row).
VISIT_GROUPS: dict[str, tuple[Any, ...]] = {
    "year": (_part("year", Visit.visited_on),),
    "quarter": (_part("year", Visit.visited_on), _quarter(Visit.visited_on)),
    "month": (_part("year", Visit.visited_on), _part("month", Visit.visited_on)),
    "region": (),
    "municipality": (Patient.home_municipality_code,),
    "service": (CounsellingService.code,),
    "contact_type": (Visit.contact_type,),
    "counsellor_profession": (Visit.counsellor_profession,),
    "referrer_profession": (Referral.referrer_profession,),
    "age_band": (age_band(Visit.visited_on, Patient.birth_date),),
    "sex": (Patient.sex,),
    "language": (Patient.language,),
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose visits: everyone's (the region), or one municipality's residents."""

    municipality_code: str | None


def _in_scope(statement: Select[Any], scope: Scope) -> Select[Any]:
    if scope.municipality_code is None:
        return statement
    return statement.where(Patient.home_municipality_code == scope.municipality_code)


def _grouped(statement: Select[Any], columns: int) -> Select[Any]:
    """Grouped and ordered by the first `columns` selected, by position: the expressions carry
    bound values (age limits, labels), and PostgreSQL does not see two renderings of one
    expression with different parameters as the same."""
    if not columns:
        return statement
    positions: list[ColumnElement[Any]] = [
        literal_column(str(number)) for number in range(1, columns + 1)
    ]
    return statement.group_by(*positions).order_by(*positions)


def _sent_between(sent_from: date, sent_to: date) -> ColumnElement[bool]:
    """Referrals sent on the Helsinki days from `sent_from` to `sent_to`."""
    return (Referral.created_at >= helsinki_midnight(sent_from)) & (
        Referral.created_at < helsinki_midnight(sent_to + timedelta(days=1))
    )


def visit_counts(
    session: Session,
    groups: Sequence[str],
    visited_from: date,
    visited_to: date,
    scope: Scope,
) -> Sequence[Any]:
    """Visits and distinct patients per combination of the groups' values."""
    columns = [expression for group in groups for expression in VISIT_GROUPS[group]]
    statement = (
        select(
            *columns,
            func.count(Visit.id).label("visits"),
            func.count(Visit.patient_id.distinct()).label("patients"),
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Referral, Referral.id == Visit.referral_id)
        .join(CounsellingService, CounsellingService.id == Visit.service_id)
        .where(
            Visit.corrected.is_(False),
            Visit.visited_on >= visited_from,
            Visit.visited_on <= visited_to,
        )
    )
    return session.execute(_grouped(_in_scope(statement, scope), len(columns))).all()


# Referral-level groupings: by when the referral was sent, and who it was for.
REFERRAL_GROUPS: dict[str, tuple[Any, ...]] = {
    "year": (_part("year", Referral.created_at),),
    "quarter": (_part("year", Referral.created_at), _quarter(Referral.created_at)),
    "month": (_part("year", Referral.created_at), _part("month", Referral.created_at)),
    "region": (),
    "municipality": (Patient.home_municipality_code,),
    "service": (CounsellingService.code,),
    "referrer_profession": (Referral.referrer_profession,),
    "age_band": (age_band(Referral.created_at, Patient.birth_date),),
    "sex": (Patient.sex,),
    "language": (Patient.language,),
}


def _has(condition: Any) -> ColumnElement[int]:
    """How many rows meet the condition (0, not NULL, over no rows)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def referral_funnel(
    session: Session, groups: Sequence[str], sent_from: date, sent_to: date, scope: Scope
) -> Sequence[Any]:
    """The service chain per combination of the groups' values: referrals sent, accepted,
    rejected, booked, seen at a first visit, completed and cancelled; appointments attended
    and missed; distinct patients (what decides suppression)."""
    accepted = (
        select(ReferralEvent.id)
        .where(ReferralEvent.referral_id == Referral.id, ReferralEvent.action == "accept")
        .exists()
    )
    booked = select(Appointment.id).where(Appointment.referral_id == Referral.id).exists()
    visited = (
        select(Visit.id)
        .where(Visit.referral_id == Referral.id, Visit.corrected.is_(False))
        .exists()
    )
    marked = (
        select(
            Appointment.referral_id.label("referral_id"),
            _has(Appointment.status == "attended").label("attended"),
            _has(Appointment.status == "no_show").label("no_show"),
        )
        .group_by(Appointment.referral_id)
        .subquery()
    )
    columns = [expression for group in groups for expression in REFERRAL_GROUPS[group]]
    statement = (
        select(
            *columns,
            func.count(Referral.id).label("sent"),
            _has(accepted).label("accepted"),
            _has(Referral.status == "rejected").label("rejected"),
            _has(Referral.status == "returned").label("returned"),
            _has(booked).label("booked"),
            _has(visited).label("first_visit"),
            _has(Referral.status == "completed").label("completed"),
            _has(Referral.status == "cancelled").label("cancelled"),
            func.coalesce(func.sum(marked.c.attended), 0).label("attended"),
            func.coalesce(func.sum(marked.c.no_show), 0).label("no_show"),
            func.count(Referral.patient_id.distinct()).label("patients"),
        )
        .join(Patient, Patient.id == Referral.patient_id)
        .join(CounsellingService, CounsellingService.id == Referral.service_id)
        .outerjoin(marked, marked.c.referral_id == Referral.id)
        .where(_sent_between(sent_from, sent_to))
    )
    return session.execute(_grouped(_in_scope(statement, scope), len(columns))).all()


class days_between(expression.FunctionElement[int]):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between)
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)})"
        f" - julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


class helsinki_date(expression.FunctionElement[date]):
    """The Helsinki calendar day of a stored UTC time."""

    type = Date()
    inherit_cache = True


@compiles(helsinki_date, "postgresql")
def _helsinki_date_postgresql(element: helsinki_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Europe/Helsinki', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(helsinki_date)
def _helsinki_date_sqlite(element: helsinki_date, compiler: Any, **kw: Any) -> str:
    # SQLite has no time zone database; the embedded default counts UTC days.
    return f"date({compiler.process(element.clauses, **kw)})"


def referral_outcomes(
    session: Session, groups: Sequence[str], sent_from: date, sent_to: date, scope: Scope
) -> Sequence[Any]:
    """Per referral sent in the period: its groups' values, the days from sending to the first
    visit (None if none yet) and the change in minutes of activity a week from the first to the
    last assessment (None with fewer than two)."""
    first_visit = (
        select(Visit.referral_id, func.min(Visit.visited_on).label("first_on"))
        .where(Visit.corrected.is_(False))
        .group_by(Visit.referral_id)
        .subquery()
    )
    ordered = (Visit.visited_on, Visit.created_at)
    assessed = (
        select(
            Visit.referral_id,
            Visit.minutes_per_week,
            func.row_number()
            .over(partition_by=Visit.referral_id, order_by=ordered)
            .label("from_start"),
            func.row_number()
            .over(partition_by=Visit.referral_id, order_by=[c.desc() for c in ordered])
            .label("from_end"),
        )
        .where(Visit.corrected.is_(False), Visit.minutes_per_week.is_not(None))
        .subquery()
    )
    change = (
        select(
            assessed.c.referral_id,
            (
                func.sum(case((assessed.c.from_end == 1, assessed.c.minutes_per_week), else_=0))
                - func.sum(case((assessed.c.from_start == 1, assessed.c.minutes_per_week), else_=0))
            ).label("minutes_change"),
        )
        .group_by(assessed.c.referral_id)
        .having(func.count() >= 2)
        .subquery()
    )
    columns = [expression for group in groups for expression in REFERRAL_GROUPS[group]]
    statement = (
        select(
            *columns,
            days_between(first_visit.c.first_on, helsinki_date(Referral.created_at)).label(
                "wait_days"
            ),
            change.c.minutes_change,
        )
        .join(Patient, Patient.id == Referral.patient_id)
        .join(CounsellingService, CounsellingService.id == Referral.service_id)
        .outerjoin(first_visit, first_visit.c.referral_id == Referral.id)
        .outerjoin(change, change.c.referral_id == Referral.id)
        .where(_sent_between(sent_from, sent_to))
    )
    return session.execute(_in_scope(statement, scope)).all()
