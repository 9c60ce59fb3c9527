"""Age bands, shared by the statistics facts (in SQL) and research extracts (in Python)."""

from __future__ import annotations

from datetime import date

import pytest

from app.patients.ages import age_band


@pytest.mark.parametrize(
    ("day", "band"),
    [(date(2010, 5, 1), "0-6"), (date(2017, 4, 30), "0-6"), (date(2017, 5, 1), "7-12"),
     (date(2085, 5, 1), "75+")],
)  # fmt: skip
def test_the_band_is_the_age_on_the_day(day: date, band: str) -> None:
    assert age_band(date(2010, 5, 1), day) == band


def test_a_day_before_the_birth_counts_in_the_youngest_band_as_in_the_statistics() -> None:
    """A visit dated before the client was born (a typo the form lets through) has an age
    below every band's youngest; the statistics facts count it as 0-6, and so does an extract,
    instead of failing on it."""
    assert age_band(date(2010, 5, 1), date(2009, 12, 31)) == "0-6"
