"""Statistics for the statisticians: aggregates only, never rows or identifiers."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.access.permissions import StatisticsReader
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.i18n import Language, negotiate_language
from app.kit.clock import today_in_helsinki
from app.kit.types import CalendarDate
from app.organisations import service as organisations
from app.statistics import card, perturbation, service
from app.statistics.schemas import (
    FUNNEL,
    Group,
    ReferralGroup,
    ReferralStatistics,
    VisitStatistics,
)

router = APIRouter(prefix="/stats", tags=["statistics"])
CSV = "text/csv; charset=utf-8"


def _csv_with_notes(language: Language) -> tuple[io.StringIO, Any]:
    """A CSV's text so far: its notes first (a line each, after `#`), for readers and for the
    readers of anything made from it."""
    out = io.StringIO()
    out.write(f"# {perturbation.note(language)}\r\n")
    return out, csv.writer(out)


def _csv_response(out: io.StringIO) -> Response:
    """UTF-8 with a byte-order mark, so that Excel reads the letters right."""
    return Response("\ufeff" + out.getvalue(), media_type=CSV)


def _csv(report: VisitStatistics, language: Language) -> Response:
    out, writer = _csv_with_notes(language)
    writer.writerow([*report.group_by, "visits", "patients"])
    for cell in report.cells:
        writer.writerow([*(cell.groups[g] or "" for g in report.group_by), cell.visits,
                         cell.patients])  # fmt: skip
    writer.writerow([*(["total"] + [""] * (len(report.group_by) - 1) if report.group_by else []),
                     report.total.visits, report.total.patients])  # fmt: skip
    return _csv_response(out)


@router.get(
    "/visits",
    response_model=VisitStatistics,
    responses={
        **problem_responses(Forbidden, ValidationFailed, service.PeriodNotCalendar),
        200: {"content": {CSV: {}}},
    },
)
def visit_statistics(
    principal: StatisticsReader,
    session: WriteSession,
    request: Request,
    group_by: Annotated[list[Group] | None, Query(max_length=4)] = None,
    visited_from: CalendarDate | None = None,
    visited_to: CalendarDate | None = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> VisitStatistics | Response:
    """Counselling visits and distinct patients in a whole calendar month, quarter or year
    (this year unless given; any other period is refused), grouped by up to four of: month,
    quarter, year, region, municipality, service, contact type, counsellor's and referrer's
    profession, age band, sex, language; every combination listed, the empty ones too.
    Statisticians only: the region's see the region, a municipality's its own residents. Counts
    are perturbed by at most 4 (the cell key method), the same way in every table; under 5,
    zero too, they show as `<5`."""
    first, last = _period(visited_from, visited_to)
    report = service.visits(session, principal, list(dict.fromkeys(group_by or [])), first, last)
    return _csv(report, _language(request)) if format == "csv" else report


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    """The period asked; what is not given, this calendar year's."""
    year = today_in_helsinki().year
    return first or date(year, 1, 1), last or date(year, 12, 31)


def _funnel_csv(report: ReferralStatistics, language: Language) -> Response:
    out, writer = _csv_with_notes(language)
    writer.writerow([*report.group_by, *FUNNEL, "no_show_rate"])
    total_labels = ["total", *[""] * (len(report.group_by) - 1)] if report.group_by else []
    rows = [([c.groups[g] or "" for g in report.group_by], c) for c in report.cells]
    for labels, cell in [*rows, (total_labels, report.total)]:
        rate = "" if cell.no_show_rate is None else cell.no_show_rate
        writer.writerow([*labels, *(cell.counts[name] for name in FUNNEL), rate])
    return _csv_response(out)


@router.get(
    "/referrals",
    response_model=ReferralStatistics,
    responses={
        **problem_responses(Forbidden, ValidationFailed, service.PeriodNotCalendar),
        200: {"content": {CSV: {}}},
    },
)
def referral_statistics(
    principal: StatisticsReader,
    session: WriteSession,
    request: Request,
    group_by: Annotated[list[ReferralGroup] | None, Query(max_length=4)] = None,
    sent_from: CalendarDate | None = None,
    sent_to: CalendarDate | None = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> ReferralStatistics | Response:
    """The service chain for referrals sent in a whole calendar month, quarter or year (this
    year unless given): sent, accepted, rejected, returned, booked, seen, completed, cancelled,
    and the no-show rate, grouped by up to four of the referral-level groupings. Statisticians
    only, and protected, as for visits; a median or rate of fewer than 5 patients is "not
    shown"."""
    first, last = _period(sent_from, sent_to)
    report = service.referrals(session, principal, list(dict.fromkeys(group_by or [])), first, last)
    return _funnel_csv(report, _language(request)) if format == "csv" else report


def _municipality(session: WriteSession, code: str) -> str:
    """The name of a municipality of the region; any other code has no card."""
    name = organisations.municipality_name(session, code)
    if name is None:
        raise NotFound()
    return name


def _language(request: Request) -> Language:
    return negotiate_language(request.headers.get("accept-language"))


@router.get(
    "/municipalities/{code}/card",
    response_class=HTMLResponse,
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
def municipality_card(
    code: Annotated[str, Path(pattern=r"^\d{3}$")],
    principal: StatisticsReader,
    session: WriteSession,
    request: Request,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> HTMLResponse:
    """A municipality's yearly card for the wellbeing report, as an HTML page with its charts:
    the region's statisticians for any municipality, a municipality's for its own."""
    name = _municipality(session, code)
    language = _language(request)
    charts = card.charts(session, principal, code, year, language)
    url = f"/api/v1/stats/municipalities/{code}/card/{{chart}}.png?year={year}"
    return HTMLResponse(card.page(charts, name, year, language, url))


@router.get(
    "/municipalities/{code}/card/{chart}.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}},
        **problem_responses(Forbidden, NotFound, ValidationFailed),
    },
)
def municipality_card_chart(
    code: Annotated[str, Path(pattern=r"^\d{3}$")],
    chart: Literal["visits_by_month", "funnel", "age_bands", "activity_change"],
    principal: StatisticsReader,
    session: WriteSession,
    request: Request,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> Response:
    """One chart of the card as a PNG image (the same people as the card)."""
    _municipality(session, code)
    drawn = card.chart(session, principal, code, year, _language(request), chart)
    return Response(card.png(drawn), media_type="image/png")
