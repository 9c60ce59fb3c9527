"""Statistics for the statisticians: aggregates only, never rows or identifiers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.access.permissions import StatisticsReader
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.i18n import Language, negotiate_language
from app.kit.clock import today_in_helsinki
from app.kit.types import CalendarDate
from app.organisations import service as organisations
from app.statistics import card, service
from app.statistics.csv_export import CSV, referrals_csv, visits_csv
from app.statistics.schemas import (
    Group,
    ReferralGroup,
    ReferralStatistics,
    VisitStatistics,
)

router = APIRouter(prefix="/stats", tags=["statistics"])


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
    profession, age band, sex, language, and THL's classifications as Avohilmo reports them:
    `thl_contact_type` (yhteystapa: R10 at the service, R20 at home, R52 by phone or video),
    `thl_service_class` (palvelumuoto, the same for every counselling visit), `visit_order`
    (ensikäynti: `first` or `follow_up`), `thl_occupation` (ammattiluokitus); every combination
    listed, the empty ones too.
    Statisticians only: the region's see the region, a municipality's its own residents. Counts
    are perturbed by at most 4 (the cell key method), the same way in every table; under 5,
    zero too, they show as `<5`."""
    first, last = _period(visited_from, visited_to)
    report = service.visits(session, principal, list(dict.fromkeys(group_by or [])), first, last)
    if format == "csv":
        language = _language(request)
        return visits_csv(report, language, organisations.names_by_code(session, language))
    return report


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    """The period asked; what is not given, this calendar year's."""
    year = today_in_helsinki().year
    return first or date(year, 1, 1), last or date(year, 12, 31)


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
    if format == "csv":
        language = _language(request)
        return referrals_csv(report, language, organisations.names_by_code(session, language))
    return report


def _municipality(session: WriteSession, code: str, language: Language) -> str:
    """The name of a municipality of the region, in `language`; any other code has no card."""
    name = organisations.municipality_name(session, code, language)
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
    language = _language(request)
    name = _municipality(session, code, language)
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
    _municipality(session, code, _language(request))
    drawn = card.chart(session, principal, code, year, _language(request), chart)
    return Response(card.png(drawn), media_type="image/png")
