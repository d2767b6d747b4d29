"""The inbound closed loop's figures: saturation throughput in process and through HTTP, and
CPU time per message, each a median of samples taken in turn with the floor's.

On a 2-core machine one run of a second or two swings by a tenth with whatever else the
machine does, so each size is measured `samples` times, the pipeline and the floor one after
the other; the figure is the median of each side, and the detail keeps every pair's ratio
and their spread."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.perf.drivers import Driver, Numbers, handle_for
from tests.perf.loads import ClosedLoop, closed_loop
from tests.perf.results import Figure, Results, Target

__all__ = ["ClosedSamples", "closed_figures"]

_RATIO_TARGET = Target(">=", 0.6, of="ratio")  # issue 16


@dataclass(frozen=True)
class ClosedSamples:
    """One side's runs of one size, in the order they were taken."""

    runs: list[ClosedLoop]
    replies: list[int]

    @property
    def throughput(self) -> float:
        return statistics.median(run.throughput for run in self.runs)

    @property
    def cpu_ms_per_message(self) -> float:
        return statistics.median(run.cpu_ms_per_message for run in self.runs)

    def detail(self) -> dict[str, Any]:
        median = min(self.runs, key=lambda run: abs(run.throughput - self.throughput))
        errors = [run.first_error for run in self.runs if run.first_error]
        return {
            "replies": sum(self.replies),
            "conversations": median.conversations,
            "messages": median.messages,  # per sample
            "seconds": round(median.seconds, 3),
            "throughputs": [round(run.throughput, 1) for run in self.runs],
            "cpu_ms_per_message": [round(run.cpu_ms_per_message, 3) for run in self.runs],
            "errors": sum(run.errors for run in self.runs),
            "first_error": errors[0] if errors else None,
        }


async def _sample(
    drivers: Sequence[Driver], numbers: Numbers, *, conversations: int, messages_each: int
) -> dict[str, tuple[ClosedLoop, int]]:
    runs = {}
    for driver in drivers:
        replied = driver.replies
        # What the previous runs left is collected now and kept out of the collector's
        # scans, so that no driver pays for another's garbage (as pyperf does).
        gc.collect()
        gc.freeze()
        run = await closed_loop(
            handle_for(driver, numbers), conversations=conversations, messages_each=messages_each
        )
        await driver.settle()
        gc.unfreeze()
        runs[driver.name] = (run, driver.replies - replied)
    return runs


def _pairs(app: ClosedSamples, floor: ClosedSamples) -> dict[str, Any]:
    ratios = [a.throughput / f.throughput for a, f in zip(app.runs, floor.runs, strict=True)]
    return {
        "samples": len(ratios),
        "ratios": [round(r, 3) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_spread": [round(min(ratios), 3), round(max(ratios), 3)],
    }


async def closed_figures(
    results: Results,
    drivers: Sequence[Driver],
    numbers: Numbers,
    *,
    sizes: Sequence[int],
    messages_each: int,
    samples: int,
) -> list[ClosedSamples]:
    """`drivers` are the pipeline, the floor and, when given, the pipeline through HTTP;
    returns the pipeline's samples of each size."""
    app_name, floor_name = drivers[0].name, drivers[1].name
    mine = []
    for conversations in sizes:
        taken: dict[str, ClosedSamples] = {d.name: ClosedSamples([], []) for d in drivers}
        for _ in range(samples):
            sample = await _sample(
                drivers, numbers, conversations=conversations, messages_each=messages_each
            )
            for name, (run, replies) in sample.items():
                taken[name].runs.append(run)
                taken[name].replies.append(replies)
        app, floor = taken[app_name], taken[floor_name]
        mine.append(app)
        load = f"{conversations} conversations x {messages_each}"
        results.add(
            Figure(
                key=f"inbound.closed.c{conversations}.throughput",
                label=f"closed loop, {load}",
                unit="msg/s",
                value=app.throughput,
                floor=floor.throughput,
                target=_RATIO_TARGET,
                note=f"median of {samples} samples each; ratios in the JSON's detail",
                detail={"app": app.detail(), "floor": floor.detail(), **_pairs(app, floor)},
            )
        )
        results.add(
            Figure(
                key=f"inbound.cpu.c{conversations}.per_message",
                label=f"CPU per message, closed loop, {load}",
                unit="ms CPU",
                value=app.cpu_ms_per_message,
                floor=floor.cpu_ms_per_message,
                note="this process's CPU: all of the pipeline's; the floor's client only "
                "(Postgres's own CPU is in neither)",
            )
        )
        for driver in drivers[2:]:
            through = taken[driver.name]
            results.add(
                Figure(
                    key=f"inbound.closed_{driver.name}.c{conversations}.throughput",
                    label=f"closed loop through HTTP (1 worker), {load}",
                    unit="msg/s",
                    value=through.throughput,
                    floor=floor.throughput,
                    note="POST /api/sandbox/{id}/inbound to `atende serve` in its own process",
                    detail={"app": through.detail(), **_pairs(through, floor)},
                )
            )
    return mine
