"""The one place that reads the time, so that tests can reason about it."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_helsinki() -> date:
    return datetime.now(HELSINKI).date()


def add_working_days(start: date, days: int) -> date:
    """`days` weekdays after `start` (public holidays are not known here)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def to_helsinki(moment: datetime) -> str:
    """RFC 3339 with the Helsinki offset: how the API shows times."""
    return moment.astimezone(HELSINKI).isoformat()


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the last day of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def helsinki_midnight(day: date) -> datetime:
    """The moment a Helsinki calendar day begins, in UTC (for comparing stored times)."""
    return datetime.combine(day, time(0), tzinfo=HELSINKI).astimezone(UTC)
