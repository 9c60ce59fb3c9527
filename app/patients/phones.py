"""Phone numbers as people and patient systems write them, in the E.164 form Askel keeps.

Finnish numbers are written domestically with a trunk prefix (`040 123 4567`, `(09) 123 4567`),
internationally with `+358` or `00358`, and often with the trunk zero kept after the country
code (`+358 (0)40 …`, `+358 040 …`); each is the same number. The Finnish national significant
number is 5 to 12 digits (ITU-T E.164 assignment for country code 358).
"""

from __future__ import annotations

import re

FINLAND = "+358"
_SEPARATORS = re.compile(r"[\s\-./]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_FINNISH = re.compile(r"\+358[1-9]\d{4,11}")


def to_e164(written: str) -> str | None:
    """The number in E.164 (`+358401234567`), or None when it cannot be read as one: no
    country is guessed for a number without its trunk or international prefix."""
    number = _SEPARATORS.sub("", written.strip())
    if number[:4].lower() == "tel:":
        number = number[4:]
    if number.startswith(("+", "00")):
        # The trunk zero bracketed after the country code is not dialled.
        number = number.replace("(0)", "", 1)
    number = number.replace("(", "").replace(")", "")
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = FINLAND + number[1:]
    if number.startswith(FINLAND + "0"):
        number = FINLAND + number[len(FINLAND) + 1 :]
    if not _E164.fullmatch(number):
        return None
    if number.startswith(FINLAND) and not _FINNISH.fullmatch(number):
        return None
    return number
