"""Weekly rules to slots, in Helsinki time: DST, absences, extras, tiling, public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from app.scheduling.calendar_rules import (
    DayException,
    WeeklyRule,
    Window,
    slots_between,
    windows_on,
)

WINDOW = Window(time(9), time(11), "Liikuntahalli", ("in_person",), ("first_visit",), ("fi",), 8)


def weekly(weekday: int, window: Window = WINDOW) -> WeeklyRule:
    return WeeklyRule(weekday, window, date(2026, 1, 1), None)


def test_nine_oclock_stays_nine_across_both_dst_changes() -> None:
    sundays = [weekly(6)]
    # Summer time begins on 26 March 2028 and ends on 31 October 2027 (the last Sundays; in
    # 2027 the spring one is Easter Sunday, on which a weekly rule makes no slot).
    slots = slots_between(date(2028, 3, 19), date(2028, 4, 2), sundays, [])
    starts = [s.start_at for s in slots if s.start_at.minute == 0 and s.visit_type == "first_visit"]
    assert starts[0] == datetime(2028, 3, 19, 7, 0, tzinfo=UTC)  # 09:00 EET = 07:00 UTC
    assert starts[2] == datetime(2028, 3, 26, 6, 0, tzinfo=UTC)  # the DST Sunday: 09:00 EEST
    assert starts[4] == datetime(2028, 4, 2, 6, 0, tzinfo=UTC)
    autumn = slots_between(date(2027, 10, 24), date(2027, 10, 31), sundays, [])
    assert autumn[0].start_at == datetime(2027, 10, 24, 6, 0, tzinfo=UTC)
    assert autumn[2].start_at == datetime(2027, 10, 31, 7, 0, tzinfo=UTC)


def test_each_visit_type_tiles_the_window_on_its_own_length() -> None:
    window = Window(
        time(9), time(11), "x", ("in_person",), ("first_visit", "follow_up"), ("fi",), 8
    )
    slots = slots_between(date(2026, 12, 7), date(2026, 12, 7), [weekly(0, window)], [])
    lengths = sorted((s.visit_type, (s.end_at - s.start_at).seconds // 60) for s in slots)
    assert lengths == [("first_visit", 60)] * 2 + [("follow_up", 30)] * 4


def test_group_slots_take_the_capacity() -> None:
    window = Window(time(17), time(18, 30), "Sali", ("group",), ("group",), ("fi", "sv"), 12)
    slots = slots_between(date(2026, 12, 7), date(2026, 12, 7), [weekly(0, window)], [])
    assert [(s.visit_type, s.capacity) for s in slots] == [("group", 12)]


def test_an_absence_cuts_the_window_and_a_whole_day_absence_removes_it() -> None:
    day = date(2026, 12, 7)
    partial = [DayException(day, "absence", time(9, 30), time(10), None)]
    parts = windows_on(day, [weekly(0)], partial)
    assert [(w.start, w.end) for w in parts] == [(time(9), time(9, 30)), (time(10), time(11))]
    whole = [DayException(day, "absence", None, None, None)]
    assert windows_on(day, [weekly(0)], whole) == []


def test_an_extra_window_adds_a_one_off_time_and_validity_limits_rules() -> None:
    day = date(2026, 12, 9)  # a Wednesday without a rule
    extra = DayException(day, "extra", time(12), time(13), WINDOW)
    assert len(windows_on(day, [weekly(0)], [extra])) == 1
    expired = WeeklyRule(0, WINDOW, date(2026, 1, 1), date(2026, 11, 30))
    assert windows_on(date(2026, 12, 7), [expired], []) == []


def test_no_weekly_slot_on_a_public_holiday_or_eve_but_an_extra_time_there_is_offered() -> None:
    rules = [weekly(weekday) for weekday in range(5)]
    # Christmas week 2026: Christmas Eve (Thursday) and Christmas Day (Friday) are days off.
    week = slots_between(date(2026, 12, 21), date(2026, 12, 27), rules, [])
    days = sorted({s.start_at.date() for s in week})
    assert days == [date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23)]
    # On weekdays: Easter Monday, Ascension Day, Midsummer Eve, Independence Day 2027.
    for holiday in (date(2027, 3, 29), date(2027, 5, 6), date(2027, 6, 25), date(2027, 12, 6)):
        assert windows_on(holiday, rules, []) == []
    assert windows_on(date(2027, 6, 24), rules, []) == [WINDOW]  # the day before Midsummer Eve
    noon = Window(time(12), time(13), "Liikuntahalli", ("in_person",), ("first_visit",), ("fi",), 8)
    extra = DayException(date(2026, 12, 24), "extra", time(12), time(13), noon)
    offered = slots_between(date(2026, 12, 24), date(2026, 12, 24), rules, [extra])
    assert [s.start_at for s in offered] == [datetime(2026, 12, 24, 10, 0, tzinfo=UTC)]
