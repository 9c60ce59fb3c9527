"""Field types shared by the API's schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from app.kit.clock import to_helsinki


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a time needs its offset, e.g. 2026-03-30T09:00:00+03:00")
    return moment


_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _written_out(value: Any) -> Any:
    # Pydantic would read a bare number as seconds since 1970: not a time anyone writes.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339_START.match(value)):
        return value
    raise ValueError("a date and time is expected, e.g. 2026-03-30T09:00:00+03:00")


# Stored in UTC, shown in Helsinki time with its offset (RFC 3339); input must carry an offset.
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_written_out),
    AfterValidator(_aware),
    PlainSerializer(to_helsinki, return_type=str, when_used="json"),
]


def _date_written_out(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("a date is expected, e.g. 2026-03-30")


# A calendar date as written (2026-03-30), never a number read as seconds since 1970.
CalendarDate = Annotated[date, BeforeValidator(_date_written_out)]


def _not_text(value: Any) -> Any:
    # Lax parsing would take "5" for 5 and true for 1: a number in a request is a JSON number.
    if isinstance(value, str | bool):
        raise ValueError("a number is expected")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_text)]
Number = Annotated[float, BeforeValidator(_not_text)]
