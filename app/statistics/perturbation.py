"""Disclosure control by the cell key method (as the Australian Bureau of Statistics' TableBuilder
and the census tables of the UK and Germany publish counts): every record counted carries a
random key of its own (`RecordKey`), given once and never changed; a cell's key is the sum of its
records' keys modulo 256, so the same records make the same cell key in whatever table or query
they meet; the count published is the true count moved by the perturbation table's noise for
that count and key. Differencing two tables, two periods or a card and a table then subtracts
noise as well as counts, and a small count cannot be pinned down.

Zeros stay zero, and every count published under five, a zero too, is shown as `<5`: an empty
cell and a small one look the same, so that a cell's labels never tell that someone is there.
A median, percentile or rate of fewer than five people is not shown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from app.i18n import N_, Language, translate

KEYS = 256
MAXIMUM_NOISE = 4
SMALLEST_SHOWN = 5
HIDDEN: Literal["<5"] = "<5"
# Where a median or a rate would rest on fewer than SMALLEST_SHOWN people, none included (not
# "<5": read as "under five days" there).
NOT_SHOWN: Literal["not shown"] = "not shown"
PTABLE_VERSION = 1
PTABLE = Path(__file__).with_name(f"ptable-{PTABLE_VERSION}.csv")

Published = int | Literal["<5"]


@dataclass(frozen=True, slots=True)
class PerturbationTable:
    """The published value of each (true count, cell key), for counts up to `largest`; a larger
    count is moved as `largest` is."""

    values: dict[int, tuple[int, ...]]

    @property
    def largest(self) -> int:
        return max(self.values)

    def published(self, count: int, cell_key: int) -> int:
        if count <= self.largest:
            return self.values[count][cell_key % KEYS]
        noise = self.values[self.largest][cell_key % KEYS] - self.largest
        return count + noise


def _checked(values: dict[int, tuple[int, ...]]) -> PerturbationTable:
    """The table as read, if it keeps the method's promises."""
    for count, row in values.items():
        problems = [
            (len(row) != KEYS, "does not cover every cell key"),
            (sum(row) != count * KEYS, "moves the count on average"),
            (any(abs(value - count) > MAXIMUM_NOISE for value in row), "moves it too far"),
            (count == 0 and any(row), "moves a zero"),
            (count > 0 and min(row) <= 0, "makes a count zero or less"),
        ]
        for broken, what in problems:
            if broken:
                raise ValueError(f"{PTABLE.name}: the row for {count} {what}")
    if sorted(values) != list(range(len(values))):
        raise ValueError(f"{PTABLE.name}: the counts must run 0, 1, 2, … without a gap")
    return PerturbationTable(values)


@cache
def table() -> PerturbationTable:
    values: dict[int, list[int]] = {}
    with PTABLE.open(encoding="utf-8") as file:
        rows = csv.DictReader(line for line in file if not line.startswith("#"))
        for row in rows:
            count, value, keys = int(row["count"]), int(row["published"]), int(row["keys"])
            values.setdefault(count, []).extend([value] * keys)
    return _checked({count: tuple(row) for count, row in values.items()})


def protected(count: int, key_sum: int) -> Published:
    """A count as published: perturbed by its records' keys, `<5` under five (zero too)."""
    # int(): PostgreSQL sums large integers as numeric.
    value = table().published(int(count), int(key_sum))
    return HIDDEN if value < SMALLEST_SHOWN else value


def shown_if_enough(value: float | None, people: int, digits: int) -> float | Literal["not shown"]:
    """A median, percentile or rate, rounded, unless fewer than five people are behind it (none
    included: that nobody is there is as telling as who is)."""
    if value is None or people < SMALLEST_SHOWN:
        return NOT_SHOWN
    return round(value, digits)


NOTE = N_(
    "Counts are protected by the cell key method (perturbation table {version}): each count is "
    "moved up or down by at most {noise}, the same way wherever it appears; counts under "
    "{smallest}, zero included, are shown as <5. Cells need not add up to their totals. A "
    "median or rate resting on fewer than {smallest} people is not shown."
)


def note(language: Language) -> str:
    """What a reader of the figures is told of their protection."""
    return translate(
        NOTE, language, version=PTABLE_VERSION, noise=MAXIMUM_NOISE, smallest=SMALLEST_SHOWN
    )
