"""Field types shared by the API's schemas. Their errors carry pydantic's own types, for which
the caller is told what is expected in their language (`errors.VALIDATION_MESSAGES`).

Every number and date a client sends has bounds: the database stores 64-bit integers at most,
and date arithmetic (a search's default end four weeks on, a period's last day in UTC) overflows
near year 1 or 9999. A value outside them is a 422, never a failure deeper down.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from app.kit.clock import HELSINKI, to_helsinki

# The largest integer a BIGINT column (and so any integer the API takes) holds.
INT64_MAX = 2**63 - 1
# The largest integer a JSON number carries exactly to every client (RFC 8259, section 6): the
# bound of an identifier in a body. (FastAPI also writes a body field's bounds as floats.)
JSON_INTEGER_MAX = 2**53 - 1

# The dates the API takes: counselling in this century and the next; anything earlier or later
# is a typo. A time must fall in them both as written and in Helsinki time, as it is shown.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
_YEAR = r"(20[0-9]{2}|2100)"
_RANGE = f"from {EARLIEST} to {LATEST}"


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise PydanticCustomError("timezone_aware", "Input should have timezone info")
    return moment


def _out_of_range(day: date) -> PydanticCustomError | None:
    if day < EARLIEST:
        return PydanticCustomError(
            "greater_than_equal", "Input should be greater than or equal to {ge}",
            {"ge": EARLIEST.isoformat()},
        )  # fmt: skip
    if day > LATEST:
        return PydanticCustomError(
            "less_than_equal", "Input should be less than or equal to {le}",
            {"le": LATEST.isoformat()},
        )  # fmt: skip
    return None


def _within_range(moment: datetime) -> datetime:
    # The day as written first: only a time within the range moves to Helsinki without overflow.
    error = _out_of_range(moment.date()) or _out_of_range(moment.astimezone(HELSINKI).date())
    if error is not None:
        raise error
    return moment


_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _written_out(value: Any) -> Any:
    # Pydantic would read a bare number as seconds since 1970: not a time anyone writes.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339_START.match(value)):
        return value
    raise PydanticCustomError("datetime_type", "Input should be a valid datetime")


# Stored in UTC, shown in Helsinki time with its offset (RFC 3339); input must carry an offset.
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_written_out),
    AfterValidator(_aware),
    AfterValidator(_within_range),
    PlainSerializer(to_helsinki, return_type=str, when_used="json"),
    WithJsonSchema({
        "type": "string", "format": "date-time", "pattern": f"^{_YEAR}-",
        "description": f"RFC 3339 with its offset, {_RANGE}.",
        # The first for people; the others, the range's ends, for the API fuzzing's edge cases.
        "examples": ["2026-03-30T09:00:00+03:00", f"{EARLIEST}T00:00:00+02:00",
                     f"{LATEST}T23:59:59+02:00"],
    }),
]  # fmt: skip


def _date_written_out(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be a valid date")


# A calendar date as written (2026-03-30), never a number read as seconds since 1970.
CalendarDate = Annotated[
    date,
    BeforeValidator(_date_written_out),
    Field(ge=EARLIEST, le=LATEST),
    WithJsonSchema({
        "type": "string", "format": "date", "pattern": f"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$",
        "description": f"A date, {_RANGE}.",
        "examples": ["2026-03-30", str(EARLIEST), str(LATEST)],
    }),
]  # fmt: skip

# A birth date as written: from 1880 (the oldest person alive was born after it) to today's
# range's end; a birth date in the future is the caller's to refuse where it matters.
EARLIEST_BIRTH = date(1880, 1, 1)
BirthDate = Annotated[
    date,
    BeforeValidator(_date_written_out),
    Field(ge=EARLIEST_BIRTH, le=LATEST),
    WithJsonSchema({
        "type": "string", "format": "date",
        "pattern": "^(18[89][0-9]|19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$",
        "description": f"A birth date, {EARLIEST_BIRTH} to {LATEST}.",
        "examples": ["1991-06-02", str(EARLIEST_BIRTH), str(LATEST)],
    }),
]  # fmt: skip

# A number in a request is a JSON number: strict, so that "5" or true is not taken for 5. Each
# field states its own bounds (`Field(ge=..., le=...)`), which strict types carry into the JSON
# Schema of a nullable field too: a validator function in between would hide them.
WholeNumber = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
