"""The period of a report: days `from`..`to` (inclusive) of a time zone, as `[start, end)`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from service.errors import InvalidFields
from service.reports.schemas import MAX_DAYS, PeriodOut

__all__ = ["DEFAULT_DAYS", "Period", "resolve_period"]

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date
    zone: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        """`first_day` 00:00 local time, in UTC."""
        return self.midnight(self.first_day)

    @property
    def end(self) -> dt.datetime:
        """The day after `last_day`, 00:00 local time, in UTC (exclusive): a DST day lasts
        23 or 25 hours."""
        return self.midnight(self.last_day + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)

    def out(self) -> PeriodOut:
        return PeriodOut(
            first_day=self.first_day,
            last_day=self.last_day,
            timezone=self.zone.key,
            start=self.start,
            end=self.end,
        )


def resolve_period(
    *, first: dt.date | None, last: dt.date | None, zone: ZoneInfo, now: dt.datetime
) -> Period:
    """The period asked for: `last` defaults to today in `zone`, `first` to 29 days before
    `last`; 422 when `from` is after `to` or the period is longer than MAX_DAYS."""
    if last is None:
        last = now.astimezone(zone).date()
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidFields({"from": "must be on or before `to`"})
    period = Period(first, last, zone)
    if period.days > MAX_DAYS:
        raise InvalidFields({"to": f"a report covers at most {MAX_DAYS} days"})
    return period
