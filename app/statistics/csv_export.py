"""The statistics tables as CSV, for the API's `format=csv` and the statisticians' pages alike:
the note on their protection first (a line after `#`), a header of the groupings' and figures'
names, a row a cell, the total last."""

from __future__ import annotations

import csv
import io
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


def _total_labels(group_by: list[str]) -> list[str]:
    return ["total", *[""] * (len(group_by) - 1)] if group_by else []


def visits_csv(report: VisitStatistics, language: Language) -> Response:
    """A visit table as CSV."""
    out, writer = _csv_with_notes(language)
    writer.writerow([*report.group_by, "visits", "patients"])
    for cell in report.cells:
        writer.writerow([*(cell.groups[g] or "" for g in report.group_by), cell.visits,
                         cell.patients])  # fmt: skip
    writer.writerow([*_total_labels(list(report.group_by)), report.total.visits,
                     report.total.patients])  # fmt: skip
    return _csv_response(out)


def referrals_csv(report: ReferralStatistics, language: Language) -> Response:
    """A service-chain table as CSV: the counts and the no-show rate."""
    out, writer = _csv_with_notes(language)
    writer.writerow([*report.group_by, *FUNNEL, "no_show_rate"])
    rows = [([c.groups[g] or "" for g in report.group_by], c) for c in report.cells]
    for labels, cell in [*rows, (_total_labels(list(report.group_by)), report.total)]:
        rate = "" if cell.no_show_rate is None else cell.no_show_rate
        writer.writerow([*labels, *(cell.counts[name] for name in FUNNEL), rate])
    return _csv_response(out)
