"""Summary statistics of durations, computed the way pandas and Postgres compute them."""

from __future__ import annotations

import math
from collections.abc import Iterable

from service.reports.schemas import DurationStats

__all__ = ["duration_stats", "quantile"]


def quantile(ordered: list[float], q: float) -> float:
    """The `q` quantile of sorted values by linear interpolation (pandas' `quantile`,
    Postgres' `percentile_cont`): position q*(n-1), between its two neighbours."""
    if not ordered:
        raise ValueError("quantile of no values")
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def duration_stats(values: Iterable[float]) -> DurationStats:
    """Count, mean, median and 90th percentile of durations in seconds (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return DurationStats(count=0, mean=None, median=None, p90=None)
    return DurationStats(
        count=len(ordered),
        mean=math.fsum(ordered) / len(ordered),
        median=quantile(ordered, 0.5),
        p90=quantile(ordered, 0.9),
    )
