"""The one place that reads the time, so that tests can reason about it; and the one place that
can set it: `set_to` runs a block of code at a time of its choosing (the demo's year of history
is written that way, through the same services as real use), in its own context only."""

from __future__ import annotations

import calendar
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.kit.public_holidays import is_working_day

HELSINKI = ZoneInfo("Europe/Helsinki")
# How far a set clock moves on each reading: the smallest step both databases keep.
TICK = timedelta(microseconds=1)


class SetClock:
    """The time inside `set_to`'s block. It stands where it was put, except that each reading
    moves it on by a microsecond: what happens in order is stamped in order, as by a real
    clock, and the same code stamps the same times on every run."""

    def __init__(self, moment: datetime) -> None:
        self._now = _aware(moment)
        self._lock = threading.Lock()

    @property
    def now(self) -> datetime:
        """Where the clock stands, without moving it."""
        return self._now

    def read(self) -> datetime:
        with self._lock:
            moment = self._now
            self._now += TICK
            return moment

    def move_on_to(self, moment: datetime) -> None:
        """Forward to `moment`; a moment already passed leaves the clock where it is (time
        stamped on what happened stays in the past)."""
        with self._lock:
            self._now = max(self._now, _aware(moment))

    def advance(self, by: timedelta) -> None:
        if by < timedelta(0):
            raise ValueError("a clock moves forward only")
        with self._lock:
            self._now += by


_set_clock: ContextVar[SetClock | None] = ContextVar("askel_set_clock", default=None)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime cannot set the clock")
    return moment.astimezone(UTC)


@contextmanager
def set_to(moment: datetime) -> Iterator[SetClock]:
    """Within the block (in this context: the thread or task, and what it starts with a copy
    of its context), the current time is `moment`, then wherever the clock is moved."""
    clock = SetClock(moment)
    token = _set_clock.set(clock)
    try:
        yield clock
    finally:
        _set_clock.reset(token)


def utcnow() -> datetime:
    clock = _set_clock.get()
    return clock.read() if clock is not None else datetime.now(UTC)


def today_in_helsinki() -> date:
    return utcnow().astimezone(HELSINKI).date()


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days after `start`: weekends, Finland's public holidays and the
    eves kept as days off (`public_holidays`) are not counted."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current):
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
