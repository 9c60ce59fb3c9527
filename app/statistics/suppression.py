"""Small-cell suppression, so that no count reveals an individual in a small municipality.

A cell counting 1-4 patients is shown as `<5` (primary suppression). A suppressed cell could
still be worked out by subtraction: from the table's total, or from a coarser table someone
asks for next (the same query grouped by one dimension fewer gives each line's sum). So along
every dimension, a line of cells that has exactly one suppressed cell gets a second one, its
smallest other cell (complementary suppression), until no line has a lone suppressed cell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

SMALLEST_SHOWN = 5
HIDDEN: Literal["<5"] = "<5"


@dataclass
class Cell:
    key: tuple[str, ...]
    # Which count decides whether the cell would reveal someone (distinct patients).
    people: int
    suppressed: bool = field(default=False)


def is_small(people: int) -> bool:
    return 0 < people < SMALLEST_SHOWN


def suppress(cells: Sequence[Cell]) -> None:
    """Mark the cells to hide, primary and complementary, in place."""
    for cell in cells:
        cell.suppressed = is_small(cell.people)
    dimensions = len(cells[0].key) if cells else 0
    lines: list[list[Cell]] = []
    for along in range(dimensions):
        grouped: dict[tuple[str, ...], list[Cell]] = defaultdict(list)
        for cell in cells:
            grouped[cell.key[:along] + cell.key[along + 1 :]].append(cell)
        lines += grouped.values()
    # The whole table is a line too: its total is published.
    lines.append(list(cells))
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if cell.suppressed]
            shown = [cell for cell in line if not cell.suppressed]
            if len(hidden) == 1 and shown:
                min(shown, key=lambda cell: (cell.people, cell.key)).suppressed = True
                changed = True


def shown(value: int, suppressed: bool) -> int | Literal["<5"]:
    return HIDDEN if suppressed else value
