"""When a campaign may send its next message: throttling and the daily send window.

Pure arithmetic over aware datetimes, so that the campaign loop, its tests and a restarted
worker agree on the same answer. Three rules push a send later, never earlier:

- a random delay between `min_delay` and `max_delay` seconds after the previous send, and
  `long_pause` instead after every `long_pause_every` sends (WhatsApp flags numbers that
  send at a machine's steady rhythm);
- at most `hourly_cap` sends per connection in any sliding hour (every campaign on the
  connection counts, so two campaigns cannot double the rate);
- the daily window: sends happen between `window.start` and `window.end` local time in
  `window.timezone`, on the window's weekdays; a window whose end is before its start
  runs over midnight (it belongs to the weekday it starts on). A window without hours is
  the whole of each of its weekdays: "Monday to Friday, any hour" never sends on a Sunday.

Each rule only moves the moment forward, so applying them until none moves it finds the
earliest moment that satisfies all three.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Pacing", "SendWindow", "next_send_at", "window_open_at"]

_HOUR = timedelta(hours=1)
_ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True)
class SendWindow:
    """Local times of day (and weekdays, Monday = 0) during which sends may happen; no
    start and end means the whole day."""

    start: time | None = None
    end: time | None = None
    timezone: str = "UTC"
    weekdays: frozenset[int] = field(default=_ALL_DAYS)

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValueError("a send window needs both its start and its end, or neither")
        if self.start is not None and self.start == self.end:
            raise ValueError("a send window needs a start different from its end")
        if not self.weekdays or not self.weekdays <= _ALL_DAYS:
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday), at least one")
        try:
            ZoneInfo(self.timezone)  # an unknown zone fails here, not in the campaign loop
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America", a folder
            raise ValueError(f"unknown timezone {self.timezone!r}") from None


@dataclass(frozen=True)
class Pacing:
    min_delay: float = 20.0
    max_delay: float = 60.0
    long_pause_every: int = 0
    long_pause: float = 0.0
    hourly_cap: int | None = None
    window: SendWindow | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.min_delay <= self.max_delay:
            raise ValueError("delays need 0 <= min_delay <= max_delay")
        if self.long_pause_every < 0 or self.long_pause < 0:
            raise ValueError("the long pause and its period are not negative")
        if self.hourly_cap is not None and self.hourly_cap < 1:
            raise ValueError("an hourly cap is at least 1")

    def delay_after(self, sent_count: int, rng: random.Random) -> timedelta:
        """The pause after the `sent_count`-th send of a campaign."""
        if self.long_pause_every and sent_count and sent_count % self.long_pause_every == 0:
            return timedelta(seconds=self.long_pause)
        return timedelta(seconds=rng.uniform(self.min_delay, self.max_delay))


def window_open_at(moment: datetime, window: SendWindow) -> datetime:
    """`moment` if the window is open then, else when it next opens (aware, in UTC)."""
    zone = ZoneInfo(window.timezone)
    local = moment.astimezone(zone)
    # The window open now may have started yesterday (over midnight); later ones start on
    # one of the next seven days.
    for offset in range(-1, 8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in window.weekdays:
            continue
        if window.start is None or window.end is None:  # the whole weekday
            opens = _local(day, time(0), zone)
            closes = _local(day + timedelta(days=1), time(0), zone)
        else:
            opens = _local(day, window.start, zone)
            end_day = day if window.end > window.start else day + timedelta(days=1)
            closes = _local(end_day, window.end, zone)
        if closes <= moment:
            continue
        return max(moment, opens).astimezone(UTC)
    raise AssertionError("a window with a weekday opens within a week")  # pragma: no cover


def next_send_at(
    *,
    pacing: Pacing,
    now: datetime,
    last_sent_at: datetime | None,
    sent_count: int,
    connection_sends: Sequence[datetime] = (),
    rng: random.Random,
) -> datetime:
    """The earliest moment the campaign's next message may go.

    `sent_count` is what this campaign has sent; `connection_sends` the times of the sends
    of every campaign on the connection in the last hour (older ones are ignored)."""
    moment = now
    if last_sent_at is not None:
        moment = max(moment, last_sent_at + pacing.delay_after(sent_count, rng))
    recent = sorted(sent for sent in connection_sends if sent > now - _HOUR)
    while True:
        moved = moment
        if pacing.hourly_cap is not None:
            moved = _after_cap(moved, recent, pacing.hourly_cap)
        if pacing.window is not None:
            moved = window_open_at(moved, pacing.window)
        if moved == moment:
            return moment.astimezone(UTC)
        moment = moved


def _after_cap(moment: datetime, recent: Sequence[datetime], cap: int) -> datetime:
    """The first moment from `moment` on when fewer than `cap` sends lie in the past hour."""
    in_hour = [sent for sent in recent if moment - _HOUR < sent <= moment]
    if len(in_hour) < cap:
        return moment
    # The hour must lose enough of its sends: the (n - cap + 1)th oldest has to leave it.
    return in_hour[len(in_hour) - cap] + _HOUR


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a day in `zone`; a time skipped by DST is read as after it."""
    aware = datetime.combine(day, at, tzinfo=zone)
    # A non-existent local time (spring forward) round-trips to a different wall time;
    # normalise through UTC so that comparisons use the real instant.
    return aware.astimezone(UTC).astimezone(zone)
