"""A municipality's yearly card for the region's wellbeing report: visits by month, the service
chain, age bands and the change in activity, each a chart (PNG) and a table, from the same
protected statistics the API answers with (a hidden count or a figure not shown is written, never
drawn as a bar), and the note on their protection.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel.dates import format_date
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from app import fonts
from app.access.principal import Principal
from app.i18n import N_, Language, translate
from app.kit.clock import today_in_helsinki
from app.statistics import perturbation, service

Value = int | float | str | None
# Shown where there is no figure at all (no assessments in a quarter, say).
NO_FIGURE = "\u2013"
CHARTS = ("visits_by_month", "funnel", "age_bands", "activity_change")
TITLES = {
    "visits_by_month": N_("Counselling visits by month"),
    "funnel": N_("Referrals through the service chain"),
    "age_bands": N_("Visits by age band"),
    "activity_change": N_("Median change in weekly activity minutes, by quarter"),
}
NOT_SHOWN = N_("not shown")
FUNNEL_STEPS = {
    "sent": N_("Referrals sent"),
    "accepted": N_("Accepted"),
    "booked": N_("Booked"),
    "first_visit": N_("Seen at a first visit"),
    "completed": N_("Completed"),
}
QUARTER = N_("Quarter {number}")


@cache
def _font() -> ImageFont.FreeTypeFont:
    # Pillow's own font has no å, ä or ö.
    return ImageFont.truetype(fonts.REGULAR, 14)


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart's bars, each labelled in the reader's words (a month's name, not its number)."""

    name: str
    title: str
    bars: list[tuple[str, Value]]


def month_name(month: int, language: Language) -> str:
    return format_date(date(2000, month, 1), "LLLL", locale=language).capitalize()


def age_band_name(band: str) -> str:
    """`30-64` as written: with an en dash."""
    return band.replace("-", "\u2013")


def chart(
    session: Session, principal: Principal, code: str, year: int, language: Language, name: str
) -> Chart:
    """One chart of the card, from only the statistics it needs."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    title = translate(TITLES[name], language)
    if name == "visits_by_month":
        monthly = service.visits(session, principal, ["month"], start, end, code)
        by_month = {cell.groups["month"]: cell.visits for cell in monthly.cells}
        # A month still to come has no figure yet, not a protected zero.
        to_come = today_in_helsinki().replace(day=1)
        bars: list[tuple[str, Value]] = [
            (month_name(m, language),
             None if date(year, m, 1) > to_come else by_month.get(f"{year}-{m:02d}", 0))
            for m in range(1, 13)
        ]  # fmt: skip
    elif name == "funnel":
        chain = service.referrals(session, principal, [], start, end, code)
        bars = [(translate(step_name, language), chain.total.counts[step])
                for step, step_name in FUNNEL_STEPS.items()]  # fmt: skip
    elif name == "age_bands":
        ages = service.visits(session, principal, ["age_band"], start, end, code)
        bars = [(age_band_name(cell.groups["age_band"] or ""), cell.visits) for cell in ages.cells]
    else:
        quarters = service.referrals(session, principal, ["quarter"], start, end, code)
        bars = [(translate(QUARTER, language, number=(c.groups["quarter"] or "")[-1]),
                 c.activity_change_median) for c in quarters.cells]  # fmt: skip
    not_shown = translate(NOT_SHOWN, language)
    return Chart(name, title, [(label, not_shown if value == perturbation.NOT_SHOWN else value)
                               for label, value in bars])  # fmt: skip


def charts(
    session: Session, principal: Principal, code: str, year: int, language: Language
) -> list[Chart]:
    return [chart(session, principal, code, year, language, name) for name in CHARTS]


def png(chart: Chart) -> bytes:
    """A horizontal bar chart; a hidden count or a figure not shown gets no bar, only its
    words."""
    font = _font()
    width, row, left = 640, 26, 120
    image = Image.new("RGB", (width, 50 + row * max(len(chart.bars), 1)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 12), chart.title, fill="black", font=font)
    numbers = [v for _, v in chart.bars if isinstance(v, int | float)]
    scale = max((abs(v) for v in numbers), default=0) or 1
    for place, (label, value) in enumerate(chart.bars):
        top = 44 + place * row
        draw.text((10, top), label, fill="black", font=font)
        if isinstance(value, int | float):
            length = int((width - left - 80) * abs(value) / scale)
            colour = "#2e7d32" if value >= 0 else "#c62828"
            draw.rectangle((left, top + 2, left + length, top + row - 6), fill=colour)
            draw.text((left + length + 6, top), f"{value:g}", fill="black", font=font)
        else:
            draw.text((left, top), NO_FIGURE if value is None else value, fill="grey", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def page(
    charts_: list[Chart], municipality: str, year: int, language: Language, png_url: str
) -> str:
    """The card as an HTML page: each chart's image and, for screen readers, its table."""
    title = translate(N_("Physical-activity counselling {year}: {municipality}"), language,
                      year=year, municipality=municipality)  # fmt: skip
    sections = []
    for chart in charts_:
        rows = "".join(
            f"<tr><th scope='row'>{html.escape(label)}</th>"
            f"<td>{html.escape(NO_FIGURE if value is None else str(value))}</td></tr>"
            for label, value in chart.bars
        )
        sections.append(
            f"<section><h2>{html.escape(chart.title)}</h2>"
            f"<img src='{html.escape(png_url.format(chart=chart.name))}' alt=''>"
            f"<table>{rows}</table></section>"
        )
    return (
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(perturbation.note(language))}</p>" + "".join(sections) + "</body></html>"
    )
