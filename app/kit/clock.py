"""The one place that reads the time, so that tests can reason about it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
