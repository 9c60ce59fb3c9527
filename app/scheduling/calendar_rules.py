"""From weekly rules and exceptions to concrete slots: pure functions, no database.

Rules are in Helsinki local time, so a 09:00 slot stays 09:00 across the changes to and from
summer time (the last Sundays of March and October); only its UTC instant moves.

The weekly rules rest on Finland's public holidays and the eves kept as days off
(`app.kit.public_holidays`): a rule makes no slot on them. An extra time is the counsellor's
own choice for that very day, so it is offered on a holiday as on any other day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.kit.clock import HELSINKI
from app.kit.public_holidays import is_public_holiday

VISIT_MINUTES = {"first_visit": 60, "follow_up": 30, "group": 90}


@dataclass(frozen=True, slots=True)
class Window:
    start: time
    end: time
    location: str
    modes: tuple[str, ...]
    visit_types: tuple[str, ...]
    languages: tuple[str, ...]
    group_capacity: int


@dataclass(frozen=True, slots=True)
class SlotSpec:
    start_at: datetime  # UTC
    end_at: datetime
    visit_type: str
    capacity: int
    location: str
    modes: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    weekday: int
    window: Window
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True, slots=True)
class DayException:
    on_date: date
    kind: str  # "absence" | "extra"
    start: time | None
    end: time | None
    window: Window | None  # for extras


def local_instant(day: date, at: time) -> datetime:
    """The UTC instant of a Helsinki wall-clock time on a day."""
    return datetime.combine(day, at, HELSINKI).astimezone(UTC)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _subtract(window: Window, absences: Iterable[tuple[time | None, time | None]]) -> list[Window]:
    """The parts of a window left after absences (an absence without times is the whole day)."""
    parts = [window]
    for start, end in absences:
        if start is None or end is None:
            return []
        remaining = []
        for part in parts:
            if end <= part.start or start >= part.end:
                remaining.append(part)
                continue
            if part.start < start:
                remaining.append(_with_times(part, part.start, start))
            if end < part.end:
                remaining.append(_with_times(part, end, part.end))
        parts = remaining
    return parts


def _with_times(window: Window, start: time, end: time) -> Window:
    return Window(start, end, window.location, window.modes, window.visit_types,
                  window.languages, window.group_capacity)  # fmt: skip


def windows_on(
    day: date, rules: Iterable[WeeklyRule], exceptions: Iterable[DayException]
) -> list[Window]:
    todays = [e for e in exceptions if e.on_date == day]
    holiday = is_public_holiday(day)
    base = [
        rule.window
        for rule in rules
        if not holiday
        and rule.weekday == day.weekday()
        and rule.valid_from <= day
        and (rule.valid_until is None or day <= rule.valid_until)
    ]
    absences = [(e.start, e.end) for e in todays if e.kind == "absence"]
    open_windows = [part for window in base for part in _subtract(window, absences)]
    extras = [e.window for e in todays if e.kind == "extra" and e.window is not None]
    return open_windows + extras


def slots_in(day: date, window: Window) -> Iterator[SlotSpec]:
    """Each visit type tiles the window on its own length: a 60-minute first visit at 9:00 and
    a 30-minute follow-up at 9:30 can both be offered; booking one takes the other away."""
    for visit_type in window.visit_types:
        length = VISIT_MINUTES[visit_type]
        minute = _minutes(window.start)
        while minute + length <= _minutes(window.end):
            start = time(minute // 60, minute % 60)
            start_at = local_instant(day, start)
            yield SlotSpec(
                start_at=start_at,
                end_at=start_at + timedelta(minutes=length),
                visit_type=visit_type,
                capacity=window.group_capacity if visit_type == "group" else 1,
                location=window.location,
                modes=window.modes,
                languages=window.languages,
            )
            minute += length


def slots_between(
    first: date, last: date, rules: Iterable[WeeklyRule], exceptions: Iterable[DayException]
) -> list[SlotSpec]:
    rules, exceptions = list(rules), list(exceptions)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [
        slot for day in days for window in windows_on(day, rules, exceptions)
        for slot in slots_in(day, window)
    ]  # fmt: skip
