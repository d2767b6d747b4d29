"""Campaign throttling and send-window arithmetic, without a clock that ticks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from service.campaigns.pacing import Pacing, SendWindow, next_send_at, window_open_at

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def _next(pacing: Pacing, **kwargs: object) -> datetime:
    arguments: dict[str, object] = {
        "now": NOW,
        "last_sent_at": None,
        "sent_count": 0,
        "rng": random.Random(7),
        **kwargs,
    }
    return next_send_at(pacing=pacing, **arguments)  # type: ignore[arg-type]


def test_the_first_send_goes_at_once() -> None:
    assert _next(Pacing()) == NOW


def test_delays_are_random_within_bounds_and_not_a_steady_rhythm() -> None:
    pacing = Pacing(min_delay=10, max_delay=30)
    rng = random.Random(1)
    gaps = [
        (_next(pacing, last_sent_at=NOW, sent_count=n + 1, rng=rng) - NOW).total_seconds()
        for n in range(200)
    ]
    assert all(10 <= gap <= 30 for gap in gaps)
    assert len({round(gap, 3) for gap in gaps}) > 150


def test_a_long_pause_every_n_sends() -> None:
    pacing = Pacing(min_delay=1, max_delay=2, long_pause_every=20, long_pause=300)
    assert _next(pacing, last_sent_at=NOW, sent_count=20) == NOW + timedelta(seconds=300)
    assert _next(pacing, last_sent_at=NOW, sent_count=40) == NOW + timedelta(seconds=300)
    assert _next(pacing, last_sent_at=NOW, sent_count=21) <= NOW + timedelta(seconds=2)


def test_a_delay_already_waited_is_not_waited_again() -> None:
    pacing = Pacing(min_delay=10, max_delay=10)
    assert _next(pacing, last_sent_at=NOW - timedelta(minutes=5), sent_count=1) == NOW


def test_the_hourly_cap_is_a_sliding_hour_over_the_connection() -> None:
    pacing = Pacing(min_delay=0, max_delay=0, hourly_cap=3)
    sends = [NOW - timedelta(minutes=m) for m in (50, 20, 5)]
    # Three sends in the last hour: the next waits until the one of 50 minutes ago is an
    # hour old.
    assert _next(pacing, connection_sends=sends) == NOW + timedelta(minutes=10)
    # Sends older than an hour don't count.
    old = [NOW - timedelta(minutes=m) for m in (70, 65, 61)]
    assert _next(pacing, connection_sends=old) == NOW
    # Five sends with a cap of three: the third oldest has to leave the hour.
    five = [NOW - timedelta(minutes=m) for m in (55, 40, 30, 2, 1)]
    assert _next(pacing, connection_sends=five) == NOW + timedelta(minutes=30)


def test_the_window_defers_to_its_next_opening_in_its_timezone() -> None:
    window = SendWindow(start=time(9), end=time(18), timezone="America/Sao_Paulo")
    # 12:00 UTC is 09:00 in São Paulo (UTC-3): open.
    assert window_open_at(NOW, window) == NOW
    # 22:00 UTC is 19:00 local: closed until 09:00 local tomorrow, 12:00 UTC.
    late = NOW.replace(hour=22)
    assert window_open_at(late, window) == NOW + timedelta(days=1)
    # 08:00 UTC is 05:00 local: opens at 12:00 UTC the same day.
    assert window_open_at(NOW.replace(hour=8), window) == NOW


def test_a_window_over_midnight_and_on_weekdays_only() -> None:
    night = SendWindow(start=time(22), end=time(2), weekdays=frozenset({0}))  # Monday night
    # Tuesday 01:00 is still Monday's window.
    tuesday_1am = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert window_open_at(tuesday_1am, night) == tuesday_1am
    # Tuesday 03:00: the next Monday 22:00.
    assert window_open_at(tuesday_1am + timedelta(hours=2), night) == datetime(
        2026, 3, 9, 22, 0, tzinfo=UTC
    )
    weekdays = SendWindow(start=time(9), end=time(17), weekdays=frozenset(range(5)))
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    assert window_open_at(saturday, weekdays) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_weekdays_without_hours_are_whole_days() -> None:
    weekdays = SendWindow(timezone="America/Sao_Paulo", weekdays=frozenset(range(5)))
    # Sunday 10:00 in São Paulo waits for Monday 00:00 local (03:00 UTC).
    sunday = datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert window_open_at(sunday, weekdays) == datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    assert _next(Pacing(window=weekdays), now=sunday) == datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    # Any hour of a weekday is open.
    monday_late = datetime(2026, 3, 10, 2, 59, tzinfo=UTC)  # Monday 23:59 local
    assert window_open_at(monday_late, weekdays) == monday_late


def test_the_window_across_a_dst_change() -> None:
    # New York springs forward on 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 after.
    window = SendWindow(start=time(9), end=time(17), timezone="America/New_York")
    saturday_evening = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    assert window_open_at(saturday_evening, window) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    # A window starting in the skipped hour (02:30 does not exist that day) opens after it.
    skipped = SendWindow(start=time(2, 30), end=time(4), timezone="America/New_York")
    assert window_open_at(datetime(2026, 3, 8, 6, 0, tzinfo=UTC), skipped) == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )


def test_the_rules_combine_until_none_moves_the_moment() -> None:
    window = SendWindow(start=time(9), end=time(18))
    pacing = Pacing(min_delay=60, max_delay=60, hourly_cap=2, window=window)
    # 17:59:30 with a send 30 s ago: the delay lands at 18:00:30, when the window is closed.
    evening = NOW.replace(hour=17, minute=59, second=30)
    last = evening - timedelta(seconds=30)
    assert _next(pacing, now=evening, last_sent_at=last, sent_count=1) == datetime(
        2026, 3, 3, 9, 0, tzinfo=UTC
    )
    # The cap pushes past the window's end: the window then defers to the next morning.
    sends = [NOW.replace(hour=17, minute=10), NOW.replace(hour=17, minute=20)]
    at = NOW.replace(hour=17, minute=30)
    assert _next(pacing, now=at, connection_sends=sends) == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Pacing(min_delay=5, max_delay=1),
        lambda: Pacing(min_delay=-1),
        lambda: Pacing(hourly_cap=0),
        lambda: Pacing(long_pause_every=-1),
        lambda: SendWindow(start=time(9), end=time(9)),
        lambda: SendWindow(start=time(9)),
        lambda: SendWindow(start=time(9), end=time(10), weekdays=frozenset()),
        lambda: SendWindow(start=time(9), end=time(10), weekdays=frozenset({7})),
        lambda: SendWindow(start=time(9), end=time(10), timezone="Mars/Olympus"),
        lambda: SendWindow(start=time(9), end=time(10), timezone="America"),
    ],
)
def test_impossible_settings_are_refused(make: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each case has its own message
        make()  # type: ignore[operator]
