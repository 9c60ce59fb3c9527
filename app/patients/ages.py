"""Age bands, the same for statistics and research extracts."""

from __future__ import annotations

from datetime import date

# Each band's youngest age, oldest band first: children, school-age children, adolescents,
# young adults, working-age adults, the young-old and the old.
AGE_BANDS = ((75, "75+"), (65, "65-74"), (30, "30-64"), (18, "18-29"), (13, "13-17"),
             (7, "7-12"), (0, "0-6"))  # fmt: skip


def age_on(birth_date: date, day: date) -> int:
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


ADULT = 18


def is_minor(birth_date: date, day: date) -> bool:
    """Under 18 on `day`: a child or a young person whose guardians decide with or for them."""
    return age_on(birth_date, day) < ADULT


def age_band(birth_date: date, day: date) -> str:
    """The band of the age on `day`; a day before the birth (a mistyped date) counts in the
    youngest band, as the statistics facts count it."""
    age = age_on(birth_date, day)
    return next((band for youngest, band in AGE_BANDS if age >= youngest), AGE_BANDS[-1][1])
