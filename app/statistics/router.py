"""Statistics for the statisticians: aggregates only, never rows or identifiers."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.access.permissions import StatisticsReader
from app.db import WriteSession
from app.errors import Forbidden, ValidationFailed, problem_responses
from app.kit.clock import today_in_helsinki
from app.statistics import service
from app.statistics.schemas import (
    FUNNEL,
    Group,
    ReferralGroup,
    ReferralStatistics,
    VisitStatistics,
)

router = APIRouter(prefix="/stats", tags=["statistics"])
CSV = "text/csv; charset=utf-8"


def _csv(report: VisitStatistics) -> Response:
    """UTF-8 with a byte-order mark (so that Excel reads the letters right) and a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*report.group_by, "visits", "patients"])
    for cell in report.cells:
        writer.writerow([*(cell.groups[g] or "" for g in report.group_by), cell.visits,
                         cell.patients])  # fmt: skip
    writer.writerow([*(["total"] + [""] * (len(report.group_by) - 1) if report.group_by else []),
                     report.total.visits, report.total.patients])  # fmt: skip
    return Response("\ufeff" + out.getvalue(), media_type=CSV)


@router.get(
    "/visits",
    response_model=VisitStatistics,
    responses={**problem_responses(Forbidden, ValidationFailed), 200: {"content": {CSV: {}}}},
)
def visit_statistics(
    principal: StatisticsReader,
    session: WriteSession,
    group_by: Annotated[list[Group] | None, Query(max_length=4)] = None,
    visited_from: date | None = None,
    visited_to: date | None = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> VisitStatistics | Response:
    """Counselling visits and distinct patients in a period (this year so far unless given),
    grouped by up to four of: month, quarter, year, region, municipality, service, contact type,
    counsellor's and referrer's profession, age band, sex, language. Statisticians only: the
    region's see the region, a municipality's its own residents; 1-4 patients show as `<5`."""
    today = today_in_helsinki()
    start = visited_from or today.replace(month=1, day=1)
    report = service.visits(
        session, principal, list(dict.fromkeys(group_by or [])), start, visited_to or today
    )
    return _csv(report) if format == "csv" else report


def _funnel_csv(report: ReferralStatistics) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*report.group_by, *FUNNEL, "no_show_rate"])
    total_labels = ["total", *[""] * (len(report.group_by) - 1)] if report.group_by else []
    rows = [([c.groups[g] or "" for g in report.group_by], c) for c in report.cells]
    for labels, cell in [*rows, (total_labels, report.total)]:
        rate = "" if cell.no_show_rate is None else cell.no_show_rate
        writer.writerow([*labels, *(cell.counts[name] for name in FUNNEL), rate])
    return Response("\ufeff" + out.getvalue(), media_type=CSV)


@router.get(
    "/referrals",
    response_model=ReferralStatistics,
    responses={**problem_responses(Forbidden, ValidationFailed), 200: {"content": {CSV: {}}}},
)
def referral_statistics(
    principal: StatisticsReader,
    session: WriteSession,
    group_by: Annotated[list[ReferralGroup] | None, Query(max_length=4)] = None,
    sent_from: date | None = None,
    sent_to: date | None = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> ReferralStatistics | Response:
    """The service chain for referrals sent in a period (this year so far unless given): sent,
    accepted, rejected, returned, booked, seen, completed, cancelled, and the no-show rate,
    grouped by up to four of the referral-level groupings. Statisticians only, as for visits."""
    today = today_in_helsinki()
    start = sent_from or today.replace(month=1, day=1)
    report = service.referrals(
        session, principal, list(dict.fromkeys(group_by or [])), start, sent_to or today
    )
    return _funnel_csv(report) if format == "csv" else report
