"""Periods: `[start, end)` in UTC from the dates or moments an analyst gives."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

__all__ = ["Moment", "bounds", "in_period", "to_utc"]

Moment = dt.date | dt.datetime | str | None
"""A period's bound: a date (local day), an aware moment, a naive moment (local time), an ISO
string of either, or None (open)."""


def _as_date_or_timestamp(value: Any) -> dt.date | pd.Timestamp:
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:  # "2026-03-08": a day
            return dt.date.fromisoformat(text)
        return pd.Timestamp(text)
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value)
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"a period bound must be a date, a datetime or an ISO string, not {value!r}")


def to_utc(value: Any, tz: str, *, end: bool = False) -> pd.Timestamp | None:
    """One bound as a UTC timestamp: a date is its local midnight in `tz` (as an `end`, the
    midnight after it, so that the day is included); a naive moment is local time in `tz`."""
    if value is None:
        return None
    moment = _as_date_or_timestamp(value)
    if not isinstance(moment, pd.Timestamp):
        day = moment + dt.timedelta(days=1) if end else moment
        local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz))
        return pd.Timestamp(local).tz_convert("UTC").as_unit("ns")
    if moment.tzinfo is None:
        moment = pd.Timestamp(moment.to_pydatetime().replace(tzinfo=ZoneInfo(tz)))
    return moment.tz_convert("UTC").as_unit("ns")


def bounds(start: Moment, end: Moment, tz: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The period `[start, end)` in UTC. Dates are local days of `tz` and both are included:
    `bounds(date(2026, 3, 1), date(2026, 3, 31), tz)` is March, from 1 March 00:00 to
    1 April 00:00 local time (a DST day lasts 23 or 25 hours). Moments are exact, `end`
    excluded."""
    return to_utc(start, tz), to_utc(end, tz, end=True)


def in_period(moments: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Any:
    """A boolean mask: the moments in `[start, end)` (NaT is never in)."""
    mask = moments.notna()
    if start is not None:
        mask &= moments >= start
    if end is not None:
        mask &= moments < end
    return mask
