"""Visit and referral statistics for the statisticians: aggregates only, every count protected
by the cell key method (`perturbation`), every query audit-logged. A region statistician sees
the region; a municipality statistician its own residents.

A table lists every combination of its groupings' values, the empty ones too (as `<5`, like any
small count): a cell left out would tell that nobody in the period has those values, and a small
one shown apart from the empty ones that somebody has. Periods are whole calendar months,
quarters or years, so that two periods never differ by a few days' people."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.classifications.avohilmo import SERVICE_CLASS
from app.errors import AppError, Forbidden, RefusalContext
from app.i18n import N_
from app.organisations import service as organisations
from app.statistics import repository
from app.statistics.facts import (
    AGE_BAND_LABELS,
    CONTACT_TYPES,
    FAMILY_VISITS,
    LANGUAGES,
    OTHER,
    PROFESSIONS,
    SEXES,
    THL_CONTACT_TYPES,
    THL_OCCUPATIONS,
    VISIT_ORDERS,
)
from app.statistics.perturbation import NOT_SHOWN, Published, protected, shown_if_enough
from app.statistics.repository import FUNNEL_STEPS, REFERRAL_GROUPS, VISIT_GROUPS, Scope
from app.statistics.schemas import (
    Figure,
    FunnelCell,
    Group,
    ReferralGroup,
    ReferralStatistics,
    VisitCell,
    VisitStatistics,
)


class PeriodNotCalendar(AppError):
    status = 422
    code = "statistics_period_not_calendar"
    title = N_("Not a calendar period")
    detail = N_(
        "Statistics are given for a whole calendar month, quarter or year, such as 2026-04-01 "
        "to 2026-06-30: periods a few days apart would tell those days' people apart."
    )


def calendar_period(first: date, last: date) -> None:
    """Refuse a period that is not one whole calendar month, quarter or year."""
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    whole_months = first.day == 1 and (last + timedelta(days=1)).day == 1
    aligned = {1: True, 3: first.month % 3 == 1, 12: first.month == 1}
    if not (whole_months and aligned.get(months, False)):
        raise PeriodNotCalendar()


def scope_of(session: Session, principal: Principal) -> tuple[Scope, str]:
    """What the statistician may count, and its name."""
    if principal.organisation_kind == "region":
        return Scope(municipality_code=None), organisations.region_code(session)
    code = organisations.municipality_code_of(session, principal.organisation)
    if principal.organisation_kind != "municipality" or code is None:
        raise Forbidden(refusal=RefusalContext("Statistics"))
    return Scope(municipality_code=code), principal.organisation


def narrowed(scope: Scope, municipality_code: str | None) -> Scope:
    """The scope cut down to one municipality, which must lie inside it."""
    if municipality_code is None or scope.municipality_code == municipality_code:
        return scope
    if scope.municipality_code is not None:
        raise Forbidden(refusal=RefusalContext("Statistics", municipality_code))
    return Scope(municipality_code=municipality_code)


@dataclass(frozen=True, slots=True)
class _Labeller:
    """Each grouping's value as shown, from a row's grouped columns (codes, ids) in order."""

    groups: Sequence[str]
    columns: dict[str, tuple[Any, ...]]
    region: str
    services: dict[uuid.UUID, str]

    def __call__(self, row: Sequence[Any]) -> dict[str, str | None]:
        return {group: self._label(group, values) for group, values in self._split(row)}

    def in_order(self, rows: Sequence[Any]) -> list[Any]:
        """The rows by their groupings' values, services by their codes, none last."""

        def key(row: Sequence[Any]) -> tuple[tuple[bool, Any], ...]:
            values = [
                self.services.get(value, "") if group == "service" else value
                for group, grouped in self._split(row)
                for value in grouped
            ]
            return tuple((value is None, value) for value in values)

        return sorted(rows, key=key)

    def _split(self, row: Sequence[Any]) -> list[tuple[str, Sequence[Any]]]:
        parts, position = [], 0
        for group in self.groups:
            width = len(self.columns[group])
            parts.append((group, row[position : position + width]))
            position += width
        return parts

    def _label(self, group: str, values: Sequence[Any]) -> str | None:
        if group == "region":
            return self.region
        if group == "thl_service_class":
            return SERVICE_CLASS.code
        if group == "month":
            return f"{values[0]}-{values[1]:02d}"
        if group == "quarter":
            return f"{values[0]}-Q{values[1]}"
        value = values[0]
        if group in _VOCABULARIES:
            return _VOCABULARIES[group].label(value)
        if group == "service":
            return self.services.get(value)
        return None if value is None else str(value)


_VOCABULARIES = {
    "contact_type": CONTACT_TYPES,
    "counsellor_profession": PROFESSIONS,
    "thl_contact_type": THL_CONTACT_TYPES,
    "visit_order": VISIT_ORDERS,
    "thl_occupation": THL_OCCUPATIONS,
    "family_visit": FAMILY_VISITS,
    "referrer_profession": PROFESSIONS,
    "age_band": AGE_BAND_LABELS,
    "sex": SEXES,
}


def _labeller(
    session: Session, groups: Sequence[str], columns: dict[str, tuple[Any, ...]], region: str
) -> _Labeller:
    services = organisations.service_codes(session) if "service" in groups else {}
    return _Labeller(groups, columns, region, services)


def _months(first: date, last: date) -> list[tuple[int, int]]:
    return [
        (year, month)
        for year in range(first.year, last.year + 1)
        for month in range(1, 13)
        if (first.year, first.month) <= (year, month) <= (last.year, last.month)
    ]


def _possible(
    session: Session, group: str, first: date, last: date, scope: Scope
) -> list[tuple[Any, ...]]:
    """Every value a grouping can take in the period and scope, as its columns' values."""
    months = _months(first, last)
    if group == "month":
        return months
    if group == "quarter":
        return list(dict.fromkeys((year, (month + 2) // 3) for year, month in months))
    if group == "year":
        return list(dict.fromkeys((year,) for year, _ in months))
    if group == "municipality":
        if scope.municipality_code is not None:
            return [(scope.municipality_code,)]
        places = [place.municipality_code for place in organisations.municipalities(session)]
        # None: the patients with a security prohibition, in no municipality. Always listed, so
        # that the line's presence does not tell that someone has one.
        return [(code,) for code in (*places, OTHER, None)]
    if group == "service":
        return [(service,) for service in organisations.service_codes(session)]
    if group == "language":
        return [(language,) for language in (*LANGUAGES, OTHER)]
    if group in _VOCABULARIES:
        return [(code,) for code in range(1, len(_VOCABULARIES[group].labels) + 1)]
    return [()]  # the region


def _every_cell(
    session: Session,
    labeller: _Labeller,
    rows: Sequence[Any],
    period: tuple[date, date],
    scope: Scope,
) -> list[tuple[dict[str, str | None], Any | None]]:
    """Each combination of the groupings' values with its row (None where empty), in order: the
    values possible in the period and scope, and any other value the facts hold."""
    widths = [len(labeller.columns[group]) for group in labeller.groups]
    found = {tuple(row[: sum(widths)]): row for row in rows}
    values = []
    for place, (group, width) in enumerate(zip(labeller.groups, widths, strict=True)):
        offset = sum(widths[:place])
        seen = [tuple(key[offset : offset + width]) for key in found]
        values.append(dict.fromkeys([*_possible(session, group, *period, scope), *seen]))
    keys = [tuple(itertools.chain(*parts)) for parts in itertools.product(*values)]
    return [(labeller(key), found.get(key)) for key in labeller.in_order(keys)]


def visits(
    session: Session,
    principal: Principal,
    groups: Sequence[Group],
    visited_from: date,
    visited_to: date,
    municipality_code: str | None = None,
) -> VisitStatistics:
    """Visits and distinct patients, grouped as asked (of one municipality's residents, if
    named)."""
    calendar_period(visited_from, visited_to)
    scope, scope_name = scope_of(session, principal)
    scope = narrowed(scope, municipality_code)
    table = repository.visit_counts(session, groups, visited_from, visited_to, scope)
    audit.record(
        session, actor=principal, action=AuditAction.query, resource_type="Statistics",
        resource_id="visits",
    )  # fmt: skip
    labeller = _labeller(session, groups, VISIT_GROUPS, scope_name)
    cells = _every_cell(session, labeller, table.cells, (visited_from, visited_to), scope)
    return VisitStatistics(
        visited_from=visited_from,
        visited_to=visited_to,
        scope=scope_name,
        group_by=list(groups),
        total=_visit_cell({}, table.total),
        cells=[_visit_cell(label, row) for label, row in cells],
    )


def _visit_cell(groups: dict[str, str | None], row: Any | None) -> VisitCell:
    if row is None:
        return VisitCell(groups=groups, visits=protected(0, 0), patients=protected(0, 0))
    return VisitCell(
        groups=groups,
        visits=protected(row.visits, row.visit_keys),
        patients=protected(row.patients, row.patient_keys),
    )


def _funnel_cell(groups: dict[str, str | None], row: Any | None) -> FunnelCell:
    if row is None:
        return FunnelCell(
            groups=groups, counts=dict.fromkeys(("sent", *FUNNEL_STEPS), protected(0, 0)),
            no_show_rate=NOT_SHOWN, waiting_days_median=NOT_SHOWN, waiting_days_p90=NOT_SHOWN,
            activity_change_median=NOT_SHOWN,
        )  # fmt: skip
    counts = {
        step: protected(getattr(row, step), getattr(row, f"{step}_keys"))
        for step in ("sent", *FUNNEL_STEPS)
    }
    return FunnelCell(
        groups=groups,
        counts=counts,
        no_show_rate=_no_show_rate(counts["attended"], counts["no_show"], row.marked_patients),
        waiting_days_median=shown_if_enough(row.waiting_days_median, row.waited_patients, 1),
        waiting_days_p90=shown_if_enough(row.waiting_days_p90, row.waited_patients, 1),
        activity_change_median=shown_if_enough(row.activity_change_median, row.changed_patients, 1),
    )


def _no_show_rate(attended: Published, no_show: Published, people: int) -> Figure:
    """Missed appointments of those marked, from the protected counts (so that the rate tells
    no more than they do); not shown when either is `<5`."""
    if not (isinstance(attended, int) and isinstance(no_show, int)):
        return NOT_SHOWN
    return shown_if_enough(no_show / (attended + no_show), people, 3)


def referrals(
    session: Session,
    principal: Principal,
    groups: Sequence[ReferralGroup],
    sent_from: date,
    sent_to: date,
    municipality_code: str | None = None,
) -> ReferralStatistics:
    """The service chain for referrals sent in the period, grouped as asked (of one
    municipality's residents, if named)."""
    calendar_period(sent_from, sent_to)
    scope, scope_name = scope_of(session, principal)
    scope = narrowed(scope, municipality_code)
    table = repository.referral_funnel(session, groups, sent_from, sent_to, scope)
    audit.record(
        session, actor=principal, action=AuditAction.query, resource_type="Statistics",
        resource_id="referrals",
    )  # fmt: skip
    labeller = _labeller(session, groups, REFERRAL_GROUPS, scope_name)
    cells = _every_cell(session, labeller, table.cells, (sent_from, sent_to), scope)
    return ReferralStatistics(
        sent_from=sent_from,
        sent_to=sent_to,
        scope=scope_name,
        group_by=list(groups),
        total=_funnel_cell({}, table.total),
        cells=[_funnel_cell(label, row) for label, row in cells],
    )
