"""The perturbation table keeps the cell key method's promises, and a count is published by
it alone: zeros stay zero, small counts never become zero, no count moves by more than four,
none on average, and values under five, zero too, show as `<5`."""

from __future__ import annotations

import pytest

from app.statistics import perturbation
from app.statistics.perturbation import HIDDEN, KEYS, MAXIMUM_NOISE, NOT_SHOWN, protected


def test_the_table_keeps_its_promises_for_every_count() -> None:
    table = perturbation.table()
    for count in range(0, 60):
        values = [table.published(count, key) for key in range(KEYS)]
        assert sum(values) == count * KEYS, count  # no count moves on average
        assert max(abs(value - count) for value in values) <= MAXIMUM_NOISE
        assert (min(values) > 0) == (count > 0)
    # A larger count is moved, one way or the other, for some keys: noise, not a shift.
    assert {table.published(100, key) for key in range(KEYS)} == set(range(96, 105))


@pytest.mark.parametrize(("count", "row", "what"), [
    (1, (1,) * 255 + (2,), "moves the count on average"),
    (1, (0,) * 128 + (2,) * 128, "makes a count zero or less"),
    (5, (0,) * 128 + (10,) * 128, "moves it too far"),
    (0, (1,) * 128 + (-1,) * 128, "moves a zero"),
    (2, (2,) * 10, "does not cover every cell key"),
])  # fmt: skip
def test_a_table_that_breaks_a_promise_is_refused(
    count: int, row: tuple[int, ...], what: str
) -> None:
    values = {**perturbation.table().values, count: row}
    with pytest.raises(ValueError, match=what):
        perturbation._checked(values)


def test_a_count_is_published_by_its_count_and_cell_key_alone() -> None:
    assert protected(0, 0) == HIDDEN
    assert protected(1, 77) == HIDDEN
    assert {protected(3, key) for key in range(KEYS)} == {HIDDEN, 5}
    assert {protected(40, key) for key in range(KEYS)} == set(range(36, 45))
    # The cell key is the sum of the records' keys modulo 256.
    assert protected(40, 5) == protected(40, 5 + KEYS) == protected(40, 5 + 7 * KEYS)


def test_figures_of_fewer_than_five_people_are_not_shown() -> None:
    assert perturbation.shown_if_enough(12.345, 5, 1) == 12.3
    assert perturbation.shown_if_enough(12.345, 4, 1) == NOT_SHOWN
    assert perturbation.shown_if_enough(None, 0, 1) == NOT_SHOWN
