"""The one place that reads the time, so that tests can reason about it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_helsinki() -> date:
    return datetime.now(HELSINKI).date()
