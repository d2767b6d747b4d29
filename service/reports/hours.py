"""Business seconds: how much of an interval falls inside a schedule's opening hours."""

from __future__ import annotations

import datetime as dt

from flows.spec import BusinessHours

__all__ = ["business_seconds"]


def _moment(day: dt.date, hhmm: str, hours: BusinessHours) -> dt.datetime:
    """`hhmm` of a local day as a UTC instant; "24:00" is the next day's midnight."""
    if hhmm == "24:00":
        day, hhmm = day + dt.timedelta(days=1), "00:00"
    local = dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=hours.zone)
    return local.astimezone(dt.UTC)


def business_seconds(hours: BusinessHours | None, start: dt.datetime, end: dt.datetime) -> float:
    """The seconds of `[start, end)` inside the opening intervals of `hours`, in its time zone,
    holidays (YYYY-MM-DD once, MM-DD every year) excluded; every second when `hours` is None.
    An interval that ends before it starts has none."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return 0.0
    if hours is None:
        return (end - start).total_seconds()
    total = 0.0
    day = start.astimezone(hours.zone).date()
    last = end.astimezone(hours.zone).date()
    while day <= last:
        if day.isoformat() not in hours.holidays and day.strftime("%m-%d") not in hours.holidays:
            for opens, closes in hours.days.of(day.weekday()):
                low = max(start, _moment(day, opens, hours))
                high = min(end, _moment(day, closes, hours))
                if high > low:
                    total += (high - low).total_seconds()
        day += dt.timedelta(days=1)
    return total
