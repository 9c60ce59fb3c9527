"""The clock: the one place that reads the time, and a time set for a block of code."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app.kit import clock
from app.kit.clock import set_to, today_in_helsinki, utcnow

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2025, 3, 30, 21, 30, tzinfo=UTC)  # 00:30 on the 31st in Helsinki (summer time)


def test_a_set_time_is_what_the_block_reads_and_each_reading_moves_it_on() -> None:
    with set_to(MOMENT) as now:
        first, second = utcnow(), utcnow()
        assert first == MOMENT
        assert second == MOMENT + clock.TICK
        assert today_in_helsinki() == date(2025, 3, 31)
        now.advance(timedelta(days=2))
        assert utcnow() == MOMENT + timedelta(days=2) + 3 * clock.TICK
    # Outside the block the real time is back.
    assert utcnow() > MOMENT + timedelta(days=365)


def test_a_set_clock_moves_forward_only() -> None:
    with set_to(MOMENT) as now:
        now.move_on_to(MOMENT + timedelta(hours=1))
        assert now.now == MOMENT + timedelta(hours=1)
        now.move_on_to(MOMENT)  # already passed: stays
        assert now.now == MOMENT + timedelta(hours=1)
        with pytest.raises(ValueError, match="forward"):
            now.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="naive"), set_to(datetime(2025, 1, 1)):
        pass


def test_blocks_nest_and_another_thread_keeps_the_real_time() -> None:
    seen: list[datetime] = []
    with set_to(MOMENT):
        with set_to(MOMENT - timedelta(days=365)):
            assert utcnow() == MOMENT - timedelta(days=365)
        assert utcnow() == MOMENT
        thread = threading.Thread(target=lambda: seen.append(utcnow()))
        thread.start()
        thread.join()
    assert seen[0] > MOMENT + timedelta(days=365)


# Reading the time anywhere else would escape a set clock (and a test's reasoning).
TIME_READS = re.compile(
    r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|\btime\.time\(|func\.now\(|"
    r"current_timestamp|\bnow\(\)|localtime\(|gmtime\(",
    re.IGNORECASE,
)


def test_nothing_but_the_clock_reads_the_time() -> None:
    readers = []
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "migrations").rglob("*.py")]
    for path in sources:
        if path == ROOT / "app" / "kit" / "clock.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TIME_READS.search(line.replace("utcnow()", "")):
                readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert readers == []
