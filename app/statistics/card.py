"""A municipality's yearly card for the region's wellbeing report: visits by month, the service
chain, age bands and the change in activity, each a chart (PNG) and a table, from the same
protected statistics the API answers with (a hidden count or a figure not shown is written, never
drawn as a bar), and the note on their protection.
"""

from __future__ import annotations

import html
import io
import logging
from dataclasses import dataclass
from datetime import date
from functools import cache

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.i18n import N_, Language, translate
from app.statistics import perturbation, service

log = logging.getLogger(__name__)
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
FUNNEL_STEPS = ("sent", "accepted", "booked", "first_visit", "completed")
# Pillow's own font has no å, ä or ö: a system font that does (Debian's fonts-dejavu-core).
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_FILES:
        try:
            return ImageFont.truetype(path, 14)
        except OSError:
            continue
    log.warning("no DejaVu font found: charts fall back to a font without Nordic letters")
    return ImageFont.load_default(size=14)


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    bars: list[tuple[str, Value]]


def chart(
    session: Session, principal: Principal, code: str, year: int, language: Language, name: str
) -> Chart:
    """One chart of the card, from only the statistics it needs."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    title = translate(TITLES[name], language)
    if name == "visits_by_month":
        monthly = service.visits(session, principal, ["month"], start, end, code)
        by_month = {cell.groups["month"]: cell.visits for cell in monthly.cells}
        bars: list[tuple[str, Value]] = [
            (f"{m:02d}", by_month.get(f"{year}-{m:02d}", 0)) for m in range(1, 13)
        ]
    elif name == "funnel":
        chain = service.referrals(session, principal, [], start, end, code)
        bars = [(step, chain.total.counts[step]) for step in FUNNEL_STEPS]
    elif name == "age_bands":
        ages = service.visits(session, principal, ["age_band"], start, end, code)
        bars = [(cell.groups["age_band"] or "", cell.visits) for cell in ages.cells]
    else:
        quarters = service.referrals(session, principal, ["quarter"], start, end, code)
        bars = [(c.groups["quarter"] or "", c.activity_change_median) for c in quarters.cells]
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
