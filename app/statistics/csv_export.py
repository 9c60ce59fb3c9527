"""The statistics tables as CSV, for the API's `format=csv` and the statisticians' pages alike:
the note on their protection first (a line after `#`), a header of the groupings' and figures'
names, a row a cell, the total last."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from fastapi import Response

from app.i18n import Language
from app.statistics import perturbation
from app.statistics.schemas import FUNNEL, ReferralStatistics, VisitStatistics

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


# By grouping, the name of each of its values in the reader's language (municipalities and
# services by their codes); a named grouping's column is followed by one of the names.
Names = Mapping[str, Mapping[str, str]]


def _header(group_by: list[str], names: Names) -> list[str]:
    return [column for g in group_by for column in ([g, f"{g}_name"] if g in names else [g])]


def _labels(groups: Mapping[str, str | None], group_by: list[str], names: Names) -> list[str]:
    labels: list[str] = []
    for g in group_by:
        value = groups[g] or ""
        labels += [value, names[g].get(value, "")] if g in names else [value]
    return labels


def _total_labels(group_by: list[str], names: Names) -> list[str]:
    width = len(_header(group_by, names))
    return ["total", *[""] * (width - 1)] if group_by else []


def visits_csv(report: VisitStatistics, language: Language, names: Names | None = None) -> Response:
    """A visit table as CSV, the municipalities and services named in `language`."""
    out, writer = _csv_with_notes(language)
    group_by, names = list[str](report.group_by), names or {}
    writer.writerow([*_header(group_by, names), "visits", "patients"])
    for cell in report.cells:
        writer.writerow([*_labels(cell.groups, group_by, names), cell.visits, cell.patients])
    writer.writerow([*_total_labels(group_by, names), report.total.visits,
                     report.total.patients])  # fmt: skip
    return _csv_response(out)


def referrals_csv(
    report: ReferralStatistics, language: Language, names: Names | None = None
) -> Response:
    """A service-chain table as CSV: the counts and the no-show rate."""
    out, writer = _csv_with_notes(language)
    group_by, names = list[str](report.group_by), names or {}
    writer.writerow([*_header(group_by, names), *FUNNEL, "no_show_rate"])
    rows = [(_labels(c.groups, group_by, names), c) for c in report.cells]
    for labels, cell in [*rows, (_total_labels(group_by, names), report.total)]:
        rate = "" if cell.no_show_rate is None else cell.no_show_rate
        writer.writerow([*labels, *(cell.counts[name] for name in FUNNEL), rate])
    return _csv_response(out)
