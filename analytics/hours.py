"""Business seconds over frames: the service's definition (service/reports/hours.py), applied
to aligned Series of moments, so that notebooks and the web reports count the same seconds.

A schedule is the flow engine's `BusinessHours` (flows/spec.py): opening intervals per
weekday in wall-clock time of its time zone, minus holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flows.spec import BusinessHours
from service.reports import hours as service_hours

__all__ = ["Schedules", "business_seconds", "open_seconds"]


@dataclass(frozen=True)
class Schedules:
    """The business hours of a company: each queue's own, else the company's, else none
    (every second counts)."""

    company: BusinessHours | None = None
    queues: Mapping[int, BusinessHours] = field(default_factory=dict)

    def for_queue(self, queue_id: int | None) -> BusinessHours | None:
        """The schedule of a ticket of this queue (None: every second counts)."""
        if queue_id is not None and queue_id in self.queues:
            return self.queues[queue_id]
        return self.company


def _moments(values: Any, index: Any) -> pd.Series:
    """Aware moments as a `datetime64[ns, UTC]` Series, whatever their container."""
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object) if values.dtype == object else values.array
    return pd.Series(pd.DatetimeIndex(pd.to_datetime(values, utc=True)), index=index)


def business_seconds(hours: BusinessHours | None, start: Any, end: Any) -> pd.Series:
    """For each pair of moments (two aligned Series of aware timestamps, or two arrays), the
    seconds of `[start, end)` inside the opening hours of `hours`; every second when `hours`
    is None. NaN where either is missing; 0 when `end` is not after `start`."""
    index = start.index if isinstance(start, pd.Series) else None
    starts = _moments(start, index)
    ends = _moments(end, starts.index)
    result = pd.Series(np.nan, index=starts.index, dtype="float64")
    known = starts.notna() & ends.notna()
    if known.any():
        result[known] = [
            service_hours.business_seconds(hours, low.to_pydatetime(), high.to_pydatetime())
            for low, high in zip(starts[known], ends[known], strict=True)
        ]
    return result


def open_seconds(hours: BusinessHours | None, start: dt.datetime, end: dt.datetime) -> float:
    """The seconds of `[start, end)` (aware moments) inside the opening hours of `hours`."""
    return service_hours.business_seconds(hours, start, end)
