"""Latency samples summed up: percentiles by linear interpolation, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Summary", "percentile", "summarize"]


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of the samples, interpolated between the two nearest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Latencies in milliseconds."""

    count: int
    p50: float
    p99: float
    max: float
    mean: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "p50_ms": round(self.p50, 3),
            "p99_ms": round(self.p99, 3),
            "max_ms": round(self.max, 3),
            "mean_ms": round(self.mean, 3),
        }


def summarize(seconds: Sequence[float]) -> Summary:
    """The summary of latencies given in seconds."""
    ms = [s * 1000 for s in seconds]
    return Summary(
        count=len(ms),
        p50=percentile(ms, 50),
        p99=percentile(ms, 99),
        max=max(ms),
        mean=sum(ms) / len(ms),
    )
