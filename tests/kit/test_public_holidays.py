"""Finland's public holidays and the eves kept as days off: which days are not working days,
their names in Finnish, Swedish and English, and working days counted past them."""

from __future__ import annotations

from datetime import date

import pytest

from app.kit.clock import add_working_days
from app.kit.public_holidays import holiday_name, holidays_of, is_public_holiday, is_working_day


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 24),  # Christmas Eve, a Thursday
        date(2026, 12, 25),  # Christmas Day
        date(2026, 12, 6),  # Independence Day (a Sunday in 2026)
        date(2027, 12, 6),  # Independence Day on a Monday
        date(2027, 6, 25),  # Midsummer Eve, the Friday between 19 and 25 June
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 6),  # Ascension Day
        date(2027, 1, 6),  # Epiphany
        date(2027, 5, 1),  # May Day
    ],
)
def test_holidays_and_the_eves_kept_as_days_off_are_not_working_days(day: date) -> None:
    assert is_public_holiday(day)
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 23),  # the day before Christmas Eve
        date(2026, 12, 31),  # New Year's Eve is worked
        date(2027, 4, 30),  # so is Walpurgis Night's eve
        date(2027, 6, 24),  # and the Thursday before Midsummer Eve
        date(2027, 2, 5),  # Runeberg's Day, a flag day only
    ],
)
def test_other_weekdays_are_working_days(day: date) -> None:
    assert not is_public_holiday(day)
    assert is_working_day(day)


def test_a_weekend_is_not_worked_though_no_holiday() -> None:
    assert not is_public_holiday(date(2026, 12, 5))
    assert not is_working_day(date(2026, 12, 5))
    assert not is_working_day(date(2026, 12, 13))


def test_the_eves_move_with_the_calendar() -> None:
    assert [day for day, name in holidays_of(2028, "en").items() if name == "Midsummer Eve"] == [
        date(2028, 6, 23)
    ]
    assert holiday_name(date(2028, 12, 24), "en") == "Christmas Eve"


@pytest.mark.parametrize(
    ("day", "language", "name"),
    [
        (date(2026, 12, 24), "fi", "Jouluaatto"),
        (date(2026, 12, 24), "sv", "Julafton"),
        (date(2026, 12, 24), "en", "Christmas Eve"),
        (date(2026, 12, 6), "fi", "Itsenäisyyspäivä"),
        (date(2026, 12, 6), "sv", "Självständighetsdagen"),
        (date(2027, 6, 25), "fi", "Juhannusaatto"),
        (date(2027, 3, 29), "sv", "Annandag påsk"),
    ],
)
def test_holidays_are_named_in_the_readers_language(day: date, language: str, name: str) -> None:
    assert holiday_name(day, language) == name


def test_an_ordinary_day_has_no_name_and_another_language_gets_the_finnish_one() -> None:
    assert holiday_name(date(2026, 12, 23), "fi") is None
    assert holiday_name(date(2026, 12, 25), "de") == "Joulupäivä"


def test_working_days_are_counted_past_christmas_and_new_year() -> None:
    # Wed 23 Dec 2026: Thu 24 and Fri 25 are days off, then a weekend.
    assert add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    # 28-31 Dec are four, New Year's Day is a Friday, and 4 and 5 Jan follow; 6 Jan is Epiphany.
    assert add_working_days(date(2026, 12, 23), 7) == date(2027, 1, 7)
    assert add_working_days(date(2026, 12, 22), 1) == date(2026, 12, 23)
    assert add_working_days(date(2026, 12, 24), 0) == date(2026, 12, 24)


def test_working_days_are_counted_past_easter_and_midsummer() -> None:
    # Thu 25 Mar 2027; Good Friday and Easter Monday are off.
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    # Thu 24 Jun 2027; Midsummer Eve is off.
    assert add_working_days(date(2027, 6, 24), 1) == date(2027, 6, 28)
