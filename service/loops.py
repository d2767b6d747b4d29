"""The worker's long-running loops, supervised in one place.

Every loop (timers, campaigns, scheduled messages, WhatsApp leases, worker commands, live
events) reports each pass here: a failing one is retried with backoff, logged with its
traceback once per outage rather than once per pass, named by /health (`degraded`) and
counted in /metrics until a pass succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Gauge

from service.metrics import Metrics

__all__ = ["LoopHealth", "backoff_seconds"]

log = logging.getLogger("atende.loops")

# After a failed pass: wait 1 s, doubling to at most a minute while it keeps failing (or the
# loop's own interval, when that is longer: a failure never makes a loop run more often).
_FIRST_RETRY = 1.0
_LONGEST_RETRY = 60.0


def backoff_seconds(failures: int, interval: float = 0.0) -> float:
    doubled: float = _FIRST_RETRY * 2 ** max(0, failures - 1)
    return max(interval, min(_LONGEST_RETRY, doubled))


@dataclass
class _State:
    failures: int = 0  # consecutive
    since: float | None = None  # when the current run of failures began (monotonic)
    last_error: str = ""


class LoopHealth:
    """What each loop of this worker last did."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self._states: dict[str, _State] = {}
        self._up: Gauge | None = None
        self._failed: Counter | None = None
        if metrics is not None:
            self._up = Gauge(
                "atende_loop_up",
                "1 while a background loop's last pass succeeded",
                ["loop"],
                registry=metrics.registry,
            )
            self._failed = Counter(
                "atende_loop_failures",
                "Failed passes of a background loop",
                ["loop"],
                registry=metrics.registry,
            )

    def ok(self, name: str) -> None:
        state = self._states.setdefault(name, _State())
        if state.failures:
            down_for = time.monotonic() - (state.since or time.monotonic())
            log.warning("loop %s works again after %.1f s", name, down_for)
        state.failures, state.since, state.last_error = 0, None, ""
        if self._up is not None:
            self._up.labels(name).set(1)

    def failed(self, name: str, error: BaseException | str) -> int:
        """Record a failed pass; returns how many in a row have failed."""
        state = self._states.setdefault(name, _State())
        state.failures += 1
        state.last_error = str(error) or type(error).__name__
        if state.failures == 1:
            state.since = time.monotonic()
            if isinstance(error, BaseException):
                log.error("loop %s failed; retrying", name, exc_info=error)
            else:
                log.error("loop %s failed (%s); retrying", name, error)
        if self._up is not None and self._failed is not None:
            self._up.labels(name).set(0)
            self._failed.labels(name).inc()
        return state.failures

    def down(self) -> dict[str, str]:
        """The loops whose last pass failed, each with its error."""
        return {name: s.last_error for name, s in sorted(self._states.items()) if s.failures}

    async def every(
        self,
        name: str,
        step: Callable[[], Awaitable[Any]],
        interval: float,
        *,
        wake: asyncio.Event | None = None,
    ) -> None:
        """Run `step` every `interval` seconds (sooner when `wake` is set) until cancelled,
        backing off while it fails."""
        while True:
            if wake is not None:
                wake.clear()
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                pause = backoff_seconds(self.failed(name, exc), interval)
            else:
                self.ok(name)
                pause = interval
            if wake is None:
                await asyncio.sleep(pause)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=pause)
