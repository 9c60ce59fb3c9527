"""The statisticians' pages: a table builder over the API's visit and service-chain tables, with
the same table as CSV, and the municipality card with its charts. Each page calls the service
functions the API's statistics endpoints call, in the request's transaction: the same scope, the
same protection of every figure (`perturbation`) and the same audit entries. Aggregates only:
the choices are in the address (a GET form), as no personal data is among them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, cast, get_args
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.access.permissions import Permission
from app.access.principal import Principal
from app.classifications.codes import (
    AMMATTILUOKITUS,
    PALVELUMUOTO,
    YHTEYSTAPA,
    of_system,
)
from app.db import WriteSession
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, Language, translate
from app.kit.clock import today_in_helsinki
from app.organisations import service as organisations
from app.statistics import card, csv_export, perturbation, service
from app.statistics.schemas import FUNNEL, Group, ReferralGroup
from app.web.forms import FormState
from app.web.pages import PageRoute
from app.web.signin import page_require
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PageStatistician = Annotated[Principal, Depends(page_require(Permission.statistics_read))]

MEASURES = ("visits", "referrals")
VISIT_GROUPS: tuple[str, ...] = get_args(Group)
REFERRAL_GROUPS: tuple[str, ...] = get_args(ReferralGroup)
MOST_GROUPS = 4
# A period is a whole year, quarter or month of a year: the only periods the service answers.
PARTS = ("year", "q1", "q2", "q3", "q4", *(f"m{month:02d}" for month in range(1, 13)))
YEARS_OFFERED = 10
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
FIGURES = {"visits": ("visits", "patients"), "referrals": (*FUNNEL, "no_show_rate")}

CHOOSE_MEASURE = N_("Choose what to count.")
TOO_MANY_GROUPS = N_("Choose at most four groupings.")
NOT_FOR_REFERRALS = N_("Contact type and the counsellor's profession are for visits only.")
CHOOSE_YEAR = N_("Choose a year.")
CHOOSE_PART = N_("Choose the whole year, a quarter or a month.")
CHOOSE_MUNICIPALITY = N_("Choose a municipality.")


@dataclass(frozen=True, slots=True)
class TableChoice:
    """A table as asked: what to count, grouped how, in which whole year, quarter or month."""

    measure: str
    group_by: tuple[str, ...]
    year: int
    part: str

    @property
    def period(self) -> tuple[date, date]:
        if self.part == "year":
            first, months = date(self.year, 1, 1), 12
        elif self.part.startswith("q"):
            first, months = date(self.year, 3 * int(self.part[1]) - 2, 1), 3
        else:
            first, months = date(self.year, int(self.part[1:]), 1), 1
        after = first.month - 1 + months
        next_first = date(self.year + after // 12, after % 12 + 1, 1)
        return first, next_first - timedelta(days=1)

    def query(self) -> str:
        """This choice as the form sends it."""
        pairs = [("measure", self.measure), *(("group_by", g) for g in self.group_by),
                 ("year", str(self.year)), ("part", self.part)]  # fmt: skip
        return urlencode(pairs)


def table_choice(
    request: Request,
    measure: Annotated[str | None, Query(max_length=20)] = None,
    group_by: Annotated[list[str] | None, Query(max_length=len(VISIT_GROUPS))] = None,
    year: Annotated[str | None, Query(max_length=4)] = None,
    part: Annotated[str | None, Query(max_length=4)] = None,
) -> tuple[dict[str, Any], FormState]:
    """The form's values as sent, and a message beside each that is not a choice offered."""
    language = page_language(request)
    groups = tuple(dict.fromkeys(g for g in group_by or [] if g in VISIT_GROUPS))
    state = FormState()
    if measure not in MEASURES:
        state.errors["measure"] = CHOOSE_MEASURE
    if len(groups) > MOST_GROUPS:
        state.errors["group_by"] = TOO_MANY_GROUPS
    elif measure == "referrals" and not set(groups) <= set(REFERRAL_GROUPS):
        state.errors["group_by"] = NOT_FOR_REFERRALS
    chosen_year = int(year) if year and year.isdigit() else None
    if chosen_year is None or not EARLIEST_YEAR <= chosen_year <= LATEST_YEAR:
        state.errors["year"] = CHOOSE_YEAR
    if part not in PARTS:
        state.errors["part"] = CHOOSE_PART
    state.errors = {field: translate(message, language) for field, message in state.errors.items()}
    values = {"measure": measure, "group_by": groups, "year": chosen_year, "part": part}
    return values, state


TableAsked = Annotated[tuple[dict[str, Any], FormState], Depends(table_choice)]


def _choice(values: dict[str, Any], state: FormState) -> TableChoice | None:
    if state.failed:
        return None
    return TableChoice(values["measure"], values["group_by"], values["year"], values["part"])


def _years(chosen: int | None) -> list[int]:
    this_year = today_in_helsinki().year
    years = list(range(this_year, this_year - YEARS_OFFERED, -1))
    if chosen is not None and chosen not in years and EARLIEST_YEAR <= chosen <= LATEST_YEAR:
        years = sorted([*years, chosen], reverse=True)
    return years


def _formats(language: Language) -> dict[str, Any]:
    """A figure in the reader's way of writing numbers; a month's name."""

    def number(value: int | float) -> str:
        return format_decimal(value, locale=language)

    return {"number": number, "month_name": lambda month: card.month_name(month, language),
            "age_band_name": card.age_band_name}  # fmt: skip


def _thl_names(language: Language) -> dict[str, dict[str, str]]:
    """The THL groupings' codes with their names in the reader's language."""
    systems = {
        "thl_contact_type": YHTEYSTAPA,
        "thl_service_class": PALVELUMUOTO,
        "thl_occupation": AMMATTILUOKITUS,
    }
    names = {
        group: {entry.code: f"{entry.code} {entry.name(language)}" for entry in of_system(oid)}
        for group, oid in systems.items()
    }
    orders = {"first": N_("First visit"), "follow_up": N_("Follow-up visit")}
    names["visit_order"] = {key: translate(text, language) for key, text in orders.items()}
    return names


def _municipality_names(session: Session, language: Language) -> dict[str, str]:
    """The region's municipalities by code, named in the reader's language (Finnish for
    English)."""
    return {
        place.municipality_code: place.name_sv if language == "sv" else place.name_fi
        for place in organisations.municipalities(session)
        if place.municipality_code is not None
    }


def _report(session: Session, principal: Principal, choice: TableChoice) -> Any:
    first, last = choice.period
    # The groupings were checked against the measure's own (`table_choice`).
    if choice.measure == "visits":
        return service.visits(session, principal, cast(list[Group], [*choice.group_by]), first,
                              last)  # fmt: skip
    groups = cast(list[ReferralGroup], [*choice.group_by])
    return service.referrals(session, principal, groups, first, last)


def _figures(measure: str, cell: Any) -> list[Any]:
    if measure == "visits":
        return [cell.visits, cell.patients]
    return [*(cell.counts[name] for name in FUNNEL), cell.no_show_rate]


@router.get("/statistics")
def table_builder(
    request: Request, principal: PageStatistician, session: WriteSession, asked: TableAsked
) -> Response:
    """The table builder: what to count, its groupings and its period; the table once asked
    (`service.visits` or `service.referrals`, as the API's statistics)."""
    values, state = asked
    language = page_language(request)
    scope, _ = service.scope_of(session, principal)
    context: dict[str, Any] = {
        **_formats(language),
        "values": values,
        "state": state if values["measure"] is not None else FormState(),
        "years": _years(values["year"]),
        "this_year": today_in_helsinki().year,
        "measures": MEASURES,
        "visit_groups": VISIT_GROUPS,
        "referral_groups": REFERRAL_GROUPS,
        "parts": PARTS,
        "municipality_names": _municipality_names(session, language),
        "thl_names": _thl_names(language),
        "scope_municipality": scope.municipality_code,
        "noise": perturbation.MAXIMUM_NOISE,
        "smallest": perturbation.SMALLEST_SHOWN,
        "note": perturbation.note(language),
        "table": None,
    }
    if values["measure"] is None:
        return render(request, "statistics/tables.html", context)
    choice = _choice(values, state)
    if choice is None:
        return render(request, "statistics/tables.html", context, status_code=422)
    report = _report(session, principal, choice)
    rows = [
        ([(g, cell.groups[g]) for g in report.group_by], _figures(choice.measure, cell))
        for cell in report.cells
    ]
    rows = rows if report.group_by else []  # the one cell of no grouping is the total
    total = _figures(choice.measure, report.total)
    figures = [value for _, row in rows for value in row] + total
    context["table"] = {
        "choice": choice,
        "period": choice.period,
        "group_by": report.group_by,
        "figure_names": FIGURES[choice.measure],
        "rows": rows,
        "total": total,
        "hidden": sum(1 for value in figures if isinstance(value, str)),
        "figures": len(figures),
        "csv": f"/statistics/table.csv?{choice.query()}",
    }
    return render(request, "statistics/tables.html", context)


@router.get("/statistics/table.csv")
def table_csv(
    request: Request, principal: PageStatistician, session: WriteSession, asked: TableAsked
) -> Response:
    """The table as CSV: the API's own CSV of it (its note, header, cells and total)."""
    values, state = asked
    choice = _choice(values, state)
    if choice is None:
        raise ValidationFailed()
    report = _report(session, principal, choice)
    language = page_language(request)
    write = csv_export.visits_csv if choice.measure == "visits" else csv_export.referrals_csv
    answer = write(report, language, organisations.names_by_code(session, language))
    first, last = choice.period
    name = f"askel-{choice.measure}-{first.isoformat()}-{last.isoformat()}.csv"
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer


def _card_choices(session: Session, principal: Principal, language: Language) -> dict[str, str]:
    """The municipalities whose card the statistician may open: any of the region's for the
    region's, its own for a municipality's (the service refuses any other)."""
    scope, _ = service.scope_of(session, principal)
    names = _municipality_names(session, language)
    if scope.municipality_code is None:
        return names
    return {code: name for code, name in names.items() if code == scope.municipality_code}


@router.get("/statistics/card")
def card_chooser(
    request: Request,
    principal: PageStatistician,
    session: WriteSession,
    municipality: Annotated[str | None, Query(max_length=3)] = None,
    year: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    """Which municipality's card, of which year; then the card."""
    language = page_language(request)
    choices = _card_choices(session, principal, language)
    state = FormState()
    chosen_year = int(year) if year and year.isdigit() else None
    if municipality is not None or year is not None:
        if municipality not in choices:
            state.errors["municipality"] = translate(CHOOSE_MUNICIPALITY, language)
        if chosen_year is None or not EARLIEST_YEAR <= chosen_year <= LATEST_YEAR:
            state.errors["year"] = translate(CHOOSE_YEAR, language)
        if not state.failed:
            return RedirectResponse(
                f"/statistics/municipalities/{municipality}/card?year={chosen_year}",
                status_code=303,
            )
    context = {
        "choices": choices,
        "state": state,
        "municipality": municipality,
        "year": chosen_year or today_in_helsinki().year - 1,
        "years": _years(chosen_year),
    }
    return render(request, "statistics/card_choice.html", context,
                  status_code=422 if state.failed else 200)  # fmt: skip


def _municipality(session: Session, code: str, language: Language) -> str:
    """The name of a municipality of the region; any other code has no card (as in the API)."""
    name = _municipality_names(session, language).get(code)
    if name is None:
        raise NotFound()
    return name


Code = Annotated[str, Path(pattern=r"^\d{3}$")]
Year = Annotated[int, Query(ge=EARLIEST_YEAR, le=LATEST_YEAR)]


@router.get("/statistics/municipalities/{code}/card")
def card_page(
    code: Code, year: Year, request: Request, principal: PageStatistician, session: WriteSession
) -> Response:
    """A municipality's yearly card (`card.charts`, as the API's card): each chart as an image
    with a text alternative, and its figures in a table."""
    language = page_language(request)
    name = _municipality(session, code, language)
    charts = card.charts(session, principal, code, year, language)
    context = {
        **_formats(language),
        "charts": charts,
        "municipality": name,
        "code": code,
        "year": year,
        "noise": perturbation.MAXIMUM_NOISE,
        "smallest": perturbation.SMALLEST_SHOWN,
        "note": perturbation.note(language),
    }
    return render(request, "statistics/card.html", context)


@router.get("/statistics/municipalities/{code}/card/{chart}.png")
def card_chart(
    code: Code,
    chart: Literal["visits_by_month", "funnel", "age_bands", "activity_change"],
    year: Year,
    request: Request,
    principal: PageStatistician,
    session: WriteSession,
) -> Response:
    """One chart of the card as a PNG image (`card.chart`, as the API's)."""
    language = page_language(request)
    _municipality(session, code, language)
    drawn = card.chart(session, principal, code, year, language, chart)
    return Response(card.png(drawn), media_type="image/png")
