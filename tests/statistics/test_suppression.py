"""Small-cell suppression on tables made by hand."""

from __future__ import annotations

from app.statistics.suppression import Cell, suppress


def table(rows: dict[tuple[str, ...], int]) -> list[Cell]:
    cells = [Cell(key=key, people=n) for key, n in rows.items()]
    suppress(cells)
    return cells


def hidden(cells: list[Cell]) -> set[tuple[str, ...]]:
    return {cell.key for cell in cells if cell.suppressed}


def test_nothing_small_nothing_hidden() -> None:
    assert hidden(table({("a",): 5, ("b",): 12})) == set()


def test_a_lone_small_cell_takes_the_smallest_other_with_it() -> None:
    assert hidden(table({("a",): 3, ("b",): 40, ("c",): 9})) == {("a",), ("c",)}


def test_two_small_cells_protect_each_other() -> None:
    assert hidden(table({("a",): 3, ("b",): 40, ("c",): 2})) == {("a",), ("c",)}


def test_every_line_of_a_two_way_table_is_protected() -> None:
    # Rows are months, columns municipalities. (Mar, 152) is small: its row and its column
    # each need a second hidden cell, and the cells chosen need partners in turn.
    cells = table({("03", "152"): 3, ("03", "399"): 20, ("04", "152"): 30, ("04", "399"): 25})
    assert hidden(cells) == {("03", "152"), ("03", "399"), ("04", "152"), ("04", "399")}
    for along in (0, 1):
        lines: dict[tuple[str, ...], list[Cell]] = {}
        for cell in cells:
            lines.setdefault(cell.key[:along] + cell.key[along + 1 :], []).append(cell)
        assert all(sum(c.suppressed for c in line) != 1 for line in lines.values())


def test_zero_is_not_small() -> None:
    assert hidden(table({("a",): 0, ("b",): 7})) == set()
