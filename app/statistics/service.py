"""Visit statistics for the statisticians: aggregates only, small cells suppressed, every query
audit-logged. A region statistician sees the region; a municipality statistician its own
residents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.errors import Forbidden, RefusalContext
from app.organisations import service as organisations
from app.statistics import repository
from app.statistics.facts import AGE_BAND_LABELS, CONTACT_TYPES, PROFESSIONS, SEXES
from app.statistics.repository import REFERRAL_GROUPS, VISIT_GROUPS, Scope
from app.statistics.schemas import (
    FUNNEL,
    FunnelCell,
    Group,
    ReferralGroup,
    ReferralStatistics,
    VisitCell,
    VisitStatistics,
)
from app.statistics.suppression import HIDDEN, Cell, is_small, shown, suppress


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
    "referrer_profession": PROFESSIONS,
    "age_band": AGE_BAND_LABELS,
    "sex": SEXES,
}


def _labeller(
    session: Session, groups: Sequence[str], columns: dict[str, tuple[Any, ...]], region: str
) -> _Labeller:
    services = organisations.service_codes(session) if "service" in groups else {}
    return _Labeller(groups, columns, region, services)


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
    scope, scope_name = scope_of(session, principal)
    scope = narrowed(scope, municipality_code)
    table = repository.visit_counts(session, groups, visited_from, visited_to, scope)
    audit.record(
        session, actor=principal, action=AuditAction.query, resource_type="Statistics",
        resource_id="visits",
    )  # fmt: skip
    labeller = _labeller(session, groups, VISIT_GROUPS, scope_name)
    rows = labeller.in_order(table.cells)
    labels = [labeller(row) for row in rows]
    cells = _suppressed(labels, rows)
    total_hidden = is_small(table.total.patients)
    return VisitStatistics(
        visited_from=visited_from,
        visited_to=visited_to,
        scope=scope_name,
        group_by=list(groups),
        total=VisitCell(
            groups={},
            visits=shown(table.total.visits, total_hidden),
            patients=shown(table.total.patients, total_hidden),
        ),
        cells=[
            VisitCell(
                groups=label,
                visits=shown(row.visits, cell.suppressed),
                patients=shown(row.patients, cell.suppressed),
            )
            for label, row, cell in zip(labels, rows, cells, strict=True)
        ],
    )


def _suppressed(labels: list[dict[str, str | None]], rows: Sequence[Any]) -> list[Cell]:
    """The cells, marked for primary and complementary suppression by their patients."""
    cells = [
        Cell(key=tuple(str(value) for value in label.values()), people=row.patients)
        for label, row in zip(labels, rows, strict=True)
    ]
    suppress(cells)
    return cells


def _figure(value: float | None, hidden: bool) -> float | Literal["<5"] | None:
    if value is None:
        return None
    return HIDDEN if hidden else round(value, 1)


def _funnel_cell(groups: dict[str, str | None], row: Any, hidden: bool) -> FunnelCell:
    marked = row.attended + row.no_show
    rate = round(row.no_show / marked, 3) if marked else None
    return FunnelCell(
        groups=groups,
        counts={name: shown(int(getattr(row, name)), hidden) for name in FUNNEL},
        no_show_rate=HIDDEN if hidden and rate is not None else rate,
        waiting_days_median=_figure(row.waiting_days_median, hidden),
        waiting_days_p90=_figure(row.waiting_days_p90, hidden),
        activity_change_median=_figure(row.activity_change_median, hidden),
    )


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
    scope, scope_name = scope_of(session, principal)
    scope = narrowed(scope, municipality_code)
    table = repository.referral_funnel(session, groups, sent_from, sent_to, scope)
    audit.record(
        session, actor=principal, action=AuditAction.query, resource_type="Statistics",
        resource_id="referrals",
    )  # fmt: skip
    labeller = _labeller(session, groups, REFERRAL_GROUPS, scope_name)
    rows = labeller.in_order(table.cells)
    labels = [labeller(row) for row in rows]
    cells = _suppressed(labels, rows)
    return ReferralStatistics(
        sent_from=sent_from,
        sent_to=sent_to,
        scope=scope_name,
        group_by=list(groups),
        total=_funnel_cell({}, table.total, is_small(table.total.patients)),
        cells=[
            _funnel_cell(label, row, cell.suppressed)
            for label, row, cell in zip(labels, rows, cells, strict=True)
        ],
    )
