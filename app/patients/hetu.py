"""The Finnish personal identity code (henkilötunnus, HETU; personbeteckning).

Form: `DDMMYY` + century sign + individual number `NNN` + check character. Century signs: `+`
for the 1800s; `-`, `Y`, `X`, `W`, `V`, `U` for the 1900s and `A`-`F` for the 2000s (the
letters other than `-` and `A` since 2023). The check character is `DDMMYYNNN` as a number mod 31,
indexed into `0123456789ABCDEFHJKLMNPRSTUVWXY`. Individual numbers 002-899 are ordinary and
900-999 temporary or for tests; odd is male, even female.

The code is confidential: neither an `InvalidHetu` nor a `Hetu`'s repr ever shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from app.kit.clock import today_in_helsinki

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
DEFAULT_SIGNS = {1800: "+", 1900: "-", 2000: "A"}
_FORM = re.compile(r"^(\d{2})(\d{2})(\d{2})(.)(\d{3})(.)$")

Reason = Literal["format", "century_sign", "date", "individual_number", "check_character", "future"]


class InvalidHetu(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(f"invalid personal identity code: {reason}")
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class Hetu:
    value: str = field(repr=False)
    birth_date: date = field(repr=False)
    sex: Literal["female", "male"] = field(repr=False)
    individual_number: int = field(repr=False)

    @property
    def is_temporary(self) -> bool:
        return self.individual_number >= 900

    def __repr__(self) -> str:
        return "Hetu(<redacted>)"

    __str__ = __repr__


def check_character(digits: str) -> str:
    """The check character for the nine digits `DDMMYYNNN`."""
    return CHECK_CHARACTERS[int(digits) % 31]


def parse_hetu(raw: str, *, today: date | None = None) -> Hetu:
    """Validate and parse; surrounding whitespace and lower case are accepted."""
    value = raw.strip().upper()
    match = _FORM.match(value)
    if match is None:
        raise InvalidHetu("format")
    day, month, year, sign, individual, check = match.groups()
    if sign not in CENTURIES:
        raise InvalidHetu("century_sign")
    try:
        birth_date = date(CENTURIES[sign] + int(year), int(month), int(day))
    except ValueError:
        raise InvalidHetu("date") from None
    number = int(individual)
    if number < 2:
        raise InvalidHetu("individual_number")
    if check != check_character(f"{day}{month}{year}{individual}"):
        raise InvalidHetu("check_character")
    if birth_date > (today or today_in_helsinki()):
        raise InvalidHetu("future")
    return Hetu(value, birth_date, "male" if number % 2 else "female", number)


def make_hetu(birth_date: date, individual_number: int, *, century_sign: str | None = None) -> str:
    """A valid code for a birth date and individual number (for demo data and tests)."""
    century = birth_date.year // 100 * 100
    sign = century_sign or DEFAULT_SIGNS.get(century)
    if sign is None or CENTURIES.get(sign) != century:
        raise ValueError(f"no century sign {century_sign!r} for the {century}s")
    if not 2 <= individual_number <= 999:
        raise ValueError("the individual number must be 002-999")
    digits = f"{birth_date:%d%m}{birth_date.year % 100:02d}{individual_number:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{check_character(digits)}"
