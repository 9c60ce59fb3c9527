"""Visit statistics for the statisticians: aggregates only, small cells suppressed, every query
audit-logged. A region statistician sees the region; a municipality statistician its own
residents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.errors import Forbidden, RefusalContext
from app.organisations import service as organisations
from app.statistics import repository
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


def _labels(
    groups: Sequence[str],
    row: Sequence[Any],
    region: str,
    expressions: dict[str, tuple[Any, ...]] = VISIT_GROUPS,
) -> dict[str, str | None]:
    """Each grouping's value as shown, from the row's grouped columns in order."""
    labels: dict[str, str | None] = {}
    position = 0
    for group in groups:
        width = len(expressions[group])
        values = row[position : position + width]
        position += width
        if group == "region":
            labels[group] = region
        elif group == "month":
            labels[group] = f"{values[0]}-{values[1]:02d}"
        elif group == "quarter":
            labels[group] = f"{values[0]}-Q{values[1]}"
        else:
            labels[group] = None if values[0] is None else str(values[0])
    return labels


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
    rows = repository.visit_counts(session, groups, visited_from, visited_to, scope)
    totals = repository.visit_counts(session, [], visited_from, visited_to, scope)[0]
    audit.record(
        session, actor=principal, action=AuditAction.query, resource_type="Statistics",
        resource_id="visits",
    )  # fmt: skip
    cells = [
        Cell(
            key=tuple(str(v) for v in _labels(groups, row, scope_name).values()),
            counts={"visits": row.visits, "patients": row.patients},
            people=row.patients,
        )
        for row in rows
    ]
    suppress(cells)
    total_hidden = is_small(totals.patients)
    return VisitStatistics(
        visited_from=visited_from,
        visited_to=visited_to,
        scope=scope_name,
        group_by=list(groups),
        total=VisitCell(
            groups={},
            visits=shown(totals.visits, total_hidden),
            patients=shown(totals.patients, total_hidden),
        ),
        cells=[
            VisitCell(
                groups=_labels(groups, row, scope_name),
                visits=shown(cell.counts["visits"], cell.suppressed),
                patients=shown(cell.counts["patients"], cell.suppressed),
            )
            for row, cell in zip(rows, cells, strict=True)
        ],
    )


Figures = dict[str, float | None]


def _percentile(values: list[int], share: float) -> float | None:
    """The value below which `share` of them fall (linear between neighbours)."""
    if not values:
        return None
    ordered = sorted(values)
    place = share * (len(ordered) - 1)
    low = int(place)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (place - low), 1)


def _outcome_figures(rows: Sequence[Any], width: int) -> dict[tuple[Any, ...], Figures]:
    """Waiting-time and activity-change figures per group (keyed by the grouped values)."""
    waits: dict[tuple[Any, ...], list[int]] = {}
    changes: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = tuple(row[:width])
        waits.setdefault(key, [])
        changes.setdefault(key, [])
        wait, change = row[width], row[width + 1]
        if wait is not None:
            waits[key].append(wait)
        if change is not None:
            changes[key].append(change)
    return {
        key: {
            "waiting_days_median": _percentile(waits[key], 0.5),
            "waiting_days_p90": _percentile(waits[key], 0.9),
            "activity_change_median": _percentile(changes[key], 0.5),
        }
        for key in waits
    }


def _hide(value: float | None, hidden: bool) -> float | Literal["<5"] | None:
    return HIDDEN if hidden and value is not None else value


def _funnel_cell(
    groups: dict[str, str | None], row: Any, hidden: bool, figures: Figures
) -> FunnelCell:
    marked = row.attended + row.no_show
    rate: float | None = round(row.no_show / marked, 3) if marked else None
    return FunnelCell(
        groups=groups,
        counts={name: shown(int(getattr(row, name)), hidden) for name in FUNNEL},
        no_show_rate=_hide(rate, hidden),
        waiting_days_median=_hide(figures.get("waiting_days_median"), hidden),
        waiting_days_p90=_hide(figures.get("waiting_days_p90"), hidden),
        activity_change_median=_hide(figures.get("activity_change_median"), hidden),
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
    rows = repository.referral_funnel(session, groups, sent_from, sent_to, scope)
    totals = repository.referral_funnel(session, [], sent_from, sent_to, scope)[0]
    width = sum(len(REFERRAL_GROUPS[group]) for group in groups)
    outcomes = repository.referral_outcomes(session, groups, sent_from, sent_to, scope)
    figures = _outcome_figures(outcomes, width)
    overall = _outcome_figures([tuple(row[width:]) for row in outcomes], 0)
    audit.record(
        session, actor=principal, action=AuditAction.query, resource_type="Statistics",
        resource_id="referrals",
    )  # fmt: skip
    labels = [_labels(groups, row, scope_name, REFERRAL_GROUPS) for row in rows]
    cells = [
        Cell(key=tuple(str(v) for v in label.values()), counts={}, people=row.patients)
        for label, row in zip(labels, rows, strict=True)
    ]
    suppress(cells)
    return ReferralStatistics(
        sent_from=sent_from,
        sent_to=sent_to,
        scope=scope_name,
        group_by=list(groups),
        total=_funnel_cell({}, totals, is_small(totals.patients), overall.get((), {})),
        cells=[
            _funnel_cell(label, row, cell.suppressed, figures.get(tuple(row[:width]), {}))
            for label, row, cell in zip(labels, rows, cells, strict=True)
        ],
    )
