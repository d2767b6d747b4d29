"""The inbound pipeline's figures: SQL statements per message, closed-loop saturation
throughput and open-loop latency, each next to the floor's under the same load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.perf.closed import closed_figures
from tests.perf.drivers import (
    Driver,
    FloorDriver,
    HttpDriver,
    Numbers,
    PipelineDriver,
    handle_for,
    text_for,
)
from tests.perf.loads import OpenLoop, closed_loop, open_loop
from tests.perf.results import Figure, Results, Target
from tests.perf.statements import Statement, StatementLog, breakdown
from tests.perf.stats import summarize

__all__ = ["InboundSizes", "measure_inbound"]

# Which message of a customer's script each count is about (tests.perf.drivers.text_for).
_COUNTED = {"first": 0, "menu_choice": 1, "steady": 3}
_COUNT_LABELS = {"first": "first message", "menu_choice": "menu choice", "steady": "steady state"}
# Issue 16's ceilings (the store's fewer round trips and the unlocked save).
_COUNT_TARGETS = {"first": 6, "menu_choice": 5, "steady": 4}


@dataclass(frozen=True)
class InboundSizes:
    closed_conversations: tuple[int, ...] = (50, 200)
    messages_each: int = 10
    open_rate: float = 250.0
    open_conversations: int = 200
    open_duration: float = 20.0
    warmup_conversations: int = 20
    samples: int = 5  # closed-loop runs of each size and side
    http_loop: bool = True  # the closed loop through HTTP too
    open_loops: bool = True  # False: statements and the closed loop only (a quick comparison)


@dataclass(frozen=True)
class _Count:
    app: list[Statement]  # what the app issues, pool resets apart
    resets: int
    receipt: list[Statement]
    publishes: int  # events
    publish_calls: int  # publish_many calls (concurrent ones share a round trip)

    def as_detail(self) -> dict[str, Any]:
        return {
            "breakdown": breakdown(self.app),
            "pool_resets": self.resets,
            "receipt_statements": len(self.receipt),
            "total_with_receipts": len(self.app) + len(self.receipt),
            "receipt_breakdown": breakdown(self.receipt),
            "redis_publishes": self.publishes,
            "redis_publish_calls": self.publish_calls,  # at most this many round trips
            "statements": [s.short() for s in self.app],
        }


def _split(statements: list[Statement]) -> tuple[list[Statement], int]:
    app = [s for s in statements if s.kind != "pool-reset"]
    return app, len(statements) - len(app)


async def _count(driver: Driver, log: StatementLog, number: str) -> dict[int, _Count]:
    """Statements for each message of one fresh customer's script, one message at a time."""
    counts: dict[int, _Count] = {}
    for index in range(max(_COUNTED.values()) + 1):
        label = f"count/{driver.name}/{index}"
        with log.labelled(label):
            await driver.write(number, text_for(0, index))
        await driver.settle()
        app, resets = _split(log.take(label))
        receipt, _ = _split(log.take(f"{label}/receipt"))
        publishes = calls = 0
        if isinstance(driver, PipelineDriver):
            publishes = driver.publishes.pop(label, 0) + driver.publishes.pop(f"{label}/receipt", 0)
            calls = driver.publish_calls.pop(label, 0) + driver.publish_calls.pop(
                f"{label}/receipt", 0
            )
        counts[index] = _Count(app, resets, receipt, publishes, calls)
    return counts


def _statement_figures(results: Results, app: dict[int, _Count], floor: dict[int, _Count]) -> None:
    for key, index in _COUNTED.items():
        results.add(
            Figure(
                key=f"inbound.statements.{key}",
                label=f"SQL statements per inbound message, {_COUNT_LABELS[key]}",
                unit="statements",
                value=len(app[index].app),
                floor=len(floor[index].app),
                target=Target("<=", _COUNT_TARGETS[key]),
                detail={"app": app[index].as_detail(), "floor": floor[index].as_detail()},
            )
        )


def _open_detail(run: OpenLoop) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "rate": run.rate,
        "conversations": run.conversations,
        "messages_handled": len(run.latencies),
        "seconds": round(run.seconds, 3),
        "achieved_rate": round(run.achieved_rate, 1),
        "max_in_flight": run.max_in_flight,
        "errors": run.errors,
        "first_error": run.first_error,
    }
    if run.latencies:
        detail["latency"] = summarize(run.latencies).as_dict()
    return detail


_OPEN_NOTE = (
    "from a message's due time to its last bot reply sent (to its processing done when the "
    "bot does not reply); floor: to its commit"
)


async def _open_figures(
    results: Results,
    app: Driver,
    floor: Driver,
    numbers: Numbers,
    sizes: InboundSizes,
    *,
    rate: float,
    conversations: int,
    key: str,
    target: Target | None,
    note: str,
) -> None:
    """p50 and p99 of both drivers under the same schedule: `rate` messages a second."""
    runs = {}
    for driver in (app, floor):
        runs[driver.name] = await open_loop(
            handle_for(driver, numbers),
            rate=rate,
            conversations=conversations,
            duration=sizes.open_duration,
        )
        await driver.settle()
    mine, base = runs[app.name], runs[floor.name]
    detail = {"app": _open_detail(mine), "floor": _open_detail(base)}
    load = f"{rate:.4g} msg/s over {conversations} conversations"
    for name, q in (("p50", 50), ("p99", 99)):
        results.add(
            Figure(
                key=f"{key}.{name}",
                label=f"open loop {name}, {load}, {sizes.open_duration:g} s",
                unit="ms",
                value=_percentile_ms(mine, q),
                floor=_percentile_ms(base, q),
                target=target if name == "p99" else None,
                note=note if name == "p99" else "",
                detail=detail if name == "p99" else {},
            )
        )


def _percentile_ms(run: OpenLoop, q: int) -> float | None:
    if not run.latencies:
        return None
    summary = summarize(run.latencies)
    return summary.p50 if q == 50 else summary.p99


async def measure_inbound(
    *,
    results: Results,
    log: StatementLog,
    pipeline: PipelineDriver,
    floor: FloorDriver,
    sizes: InboundSizes,
    http: HttpDriver | None = None,
) -> None:
    """Every inbound figure, the pipeline's and the floor's in turn under each load; then,
    as the issue's rate may exceed what this build sustains (its latency is then queueing),
    the latency at half the pipeline's own saturation throughput."""
    numbers = Numbers()
    drivers: list[Driver] = [pipeline, floor] if http is None else [pipeline, floor, http]
    for driver in drivers:  # connections, prepared statements, caches
        await closed_loop(
            handle_for(driver, numbers),
            conversations=sizes.warmup_conversations,
            messages_each=max(_COUNTED.values()) + 1,
        )
        await driver.settle()
    block = numbers.block()
    app_counts = await _count(pipeline, log, Numbers.number(block, 0))
    floor_counts = await _count(floor, log, Numbers.number(block, 1))
    _statement_figures(results, app_counts, floor_counts)
    closed = await closed_figures(
        results,
        drivers,
        numbers,
        sizes=sizes.closed_conversations,
        messages_each=sizes.messages_each,
        samples=sizes.samples,
    )
    if not sizes.open_loops:
        return
    await _open_figures(
        results,
        pipeline,
        floor,
        numbers,
        sizes,
        rate=sizes.open_rate,
        conversations=sizes.open_conversations,
        key="inbound.open.latency",
        target=Target("<", 50.0),
        note=_OPEN_NOTE,
    )
    half = min(run.throughput for run in closed) / 2
    # As many messages per conversation as at the rate: the same mix of first
    # messages, menu choices and steady ones.
    conversations = max(1, round(sizes.open_conversations * half / sizes.open_rate))
    await _open_figures(
        results,
        pipeline,
        floor,
        numbers,
        sizes,
        rate=half,
        conversations=conversations,
        key="inbound.open_half.latency",
        target=None,
        note="at half the pipeline's lowest closed-loop throughput: latency without queueing",
    )
