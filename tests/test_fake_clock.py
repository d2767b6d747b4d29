"""The tests' clock stands still until a test moves it, and starts where tests/README.md says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import CLOCK_START, FakeClock


def test_it_starts_on_a_weekday_afternoon_and_stands_still() -> None:
    clock = FakeClock()
    first = clock()  # a real clock would have moved by the next call
    assert clock() == first == CLOCK_START == datetime(2026, 5, 5, 14, 0, tzinfo=UTC)
    assert first.strftime("%A %H:%M") == "Tuesday 14:00"


def test_advance_set_and_reset() -> None:
    clock = FakeClock(datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("America/Sao_Paulo")))
    start = clock()
    clock.advance(timedelta(minutes=90))
    assert clock() - start == timedelta(minutes=90)
    clock.advance(-timedelta(minutes=30))  # a test undoing its own move
    assert clock() - start == timedelta(hours=1)
    clock.set(datetime(2026, 1, 2, 12, 0, tzinfo=UTC))
    assert clock() == datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    clock.reset()
    assert clock() == start


def test_a_naive_time_is_refused() -> None:
    naive = CLOCK_START.replace(tzinfo=None)
    with pytest.raises(ValueError, match="time zone"):
        FakeClock(naive)
    with pytest.raises(ValueError, match="time zone"):
        FakeClock().set(naive)
