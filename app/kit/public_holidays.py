"""Finland's public holidays, the one calendar that working days and bookable slots follow.

The days come from the `holidays` package's `country_holidays("FI")` in its default `public`
category: the church and civic holidays of the Finnish calendar (New Year's Day, Epiphany,
Good Friday, Easter Sunday and Monday, May Day, Ascension Day, Whitsun, Midsummer Day,
All Saints' Day, Independence Day, Christmas Day and St Stephen's Day) and, with them, the two
eves that are days off in practice though no law makes them so: Midsummer Eve (juhannusaatto)
and Christmas Eve (jouluaatto). Both are non-working days here, as they are for the health
stations and the municipalities' sports services. New Year's Eve, Easter Saturday and
Walpurgis Night (vappuaatto) are ordinary working days, as they are in Finnish working life;
the `unofficial` flag days (Runeberg's Day and the like) are not days off and are left out.

Each year is computed once, in each language it is asked in, and kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from types import MappingProxyType

import holidays

# The package's locale for each of the languages Askel speaks.
_LOCALES: Mapping[str, str] = {"fi": "fi", "sv": "sv_FI", "en": "en_US"}


@cache
def _holidays_of(year: int, language: str) -> Mapping[date, str]:
    """The year's public holidays and eves, named in `language` (fi, sv or en)."""
    calendar = holidays.country_holidays("FI", years=year, language=_LOCALES[language])
    return MappingProxyType(dict(calendar.items()))


def holidays_of(year: int, language: str = "fi") -> Mapping[date, str]:
    """The public holidays and eves of a year by day, named in `language` (fi, sv or en;
    another language is given the Finnish names)."""
    return _holidays_of(year, language if language in _LOCALES else "fi")


def is_public_holiday(day: date) -> bool:
    """Whether the day is a public holiday or one of the eves kept as days off."""
    return day in holidays_of(day.year)


def holiday_name(day: date, language: str = "fi") -> str | None:
    """The holiday's name in `language` (fi, sv or en), or None on an ordinary day."""
    return holidays_of(day.year, language).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a public holiday or eve."""
    return day.weekday() < 5 and not is_public_holiday(day)
