"""The Finnish personal identity code (henkilötunnus, HETU; personbeteckning).

Form: `DDMMYY` + century sign + individual number `NNN` + check character. Century signs: `+`
for the 1800s; `-`, `Y`, `X`, `W`, `V`, `U` for the 1900s and `A`-`F` for the 2000s (the
letters other than `-` and `A` since 2023). The check character is `DDMMYYNNN` as a number mod 31,
indexed into `0123456789ABCDEFHJKLMNPRSTUVWXY`. Individual numbers 002-899 are ordinary and
900-999 temporary or for tests; 000 and 001 are not used. The individual number's parity told
the sex until the identity-code reform; codes issued after it do not, so Askel reads no sex here.
(Digital and Population Data Services Agency, https://dvv.fi/en/personal-identity-code)

The code is confidential: neither an `InvalidHetu` nor a `Hetu`'s repr ever shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from app.kit.clock import today_in_helsinki

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
DEFAULT_SIGNS = {1800: "+", 1900: "-", 2000: "A"}
_FORM = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})(\S)([0-9]{3})([0-9A-Z])")

Reason = Literal["format", "century_sign", "date", "individual_number", "check_character", "future"]


class InvalidHetu(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(f"invalid personal identity code: {reason}")
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class Hetu:
    value: str
    birth_date: date
    individual_number: int

    @property
    def is_temporary(self) -> bool:
        return self.individual_number >= 900

    # Reprs end up in logs and tracebacks; the birth date is personal data too.
    def __repr__(self) -> str:
        return "Hetu(<redacted>)"

    __str__ = __repr__


def check_character(digits: str) -> str:
    """The check character for the nine digits `DDMMYYNNN`."""
    # Checked, because int() would also take " 1_2 " or other scripts' digits.
    if len(digits) != 9 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("expected the nine digits DDMMYYNNN")
    return CHECK_CHARACTERS[int(digits) % 31]


def parse_hetu(raw: str, *, today: date | None = None) -> Hetu:
    """Validate and parse; surrounding whitespace and lower case are accepted.

    `today` defaults to the date in Helsinki: a server on UTC would otherwise refuse a child
    born today as "future" for the first two or three hours of the Finnish day.
    """
    value = raw.strip()
    # ASCII only: int() takes other scripts' digits, so a code in Arabic-Indic digits would parse
    # yet hash differently and slip past the uniqueness check; and upper() turns long s into "S".
    match = _FORM.fullmatch(value.upper()) if value.isascii() else None
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
    if check != check_character(day + month + year + individual):
        raise InvalidHetu("check_character")
    if birth_date > (today_in_helsinki() if today is None else today):
        raise InvalidHetu("future")
    return Hetu(match.group(0), birth_date, number)


def make_hetu(birth_date: date, individual_number: int, *, century_sign: str | None = None) -> str:
    """A valid code for a birth date and individual number (for demo data and tests)."""
    century = birth_date.year // 100 * 100
    sign = DEFAULT_SIGNS.get(century) if century_sign is None else century_sign
    if sign is None:
        raise ValueError(f"no century sign exists for the {century}s")
    if CENTURIES.get(sign) != century:
        raise ValueError(f"the century sign {sign!r} is not for the {century}s")
    if not 2 <= individual_number <= 999:
        raise ValueError("the individual number must be 002-999")
    digits = f"{birth_date:%d%m}{birth_date.year % 100:02d}{individual_number:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{check_character(digits)}"
