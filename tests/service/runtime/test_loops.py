"""A background loop that fails is retried with backoff, logged once per outage, and named by
/health and /metrics until it works again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from sanic import Sanic

from service.loops import LoopHealth, backoff_seconds
from service.metrics import Metrics


def test_backoff_doubles_up_to_a_minute_and_never_runs_a_loop_more_often() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 7, 50)] == [1, 2, 4, 60, 60]
    assert backoff_seconds(1, interval=30) == 30


async def test_a_failing_pass_is_retried_logged_once_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    health = LoopHealth(metrics)
    passes: list[str] = []
    passed: asyncio.Queue[None] = asyncio.Queue()

    async def step() -> None:
        passes.append("pass")
        passed.put_nowait(None)  # seen by the test once this pass is recorded
        if len(passes) <= 2:
            raise ConnectionError("database gone")

    caplog.set_level(logging.WARNING, logger="atende.loops")
    task = asyncio.get_running_loop().create_task(health.every("timers", step, 0.01))
    try:
        async with asyncio.timeout(3):  # the second pass comes after a second
            await passed.get()
            await passed.get()
        assert health.down() == {"timers": "database gone"}
        assert b'atende_loop_up{loop="timers"} 0.0' in metrics.render()
        async with asyncio.timeout(4):  # then after two
            await passed.get()
        await asyncio.sleep(0)
        assert health.down() == {}
        rendered = metrics.render()
        assert b'atende_loop_up{loop="timers"} 1.0' in rendered
        assert b'atende_loop_failures_total{loop="timers"} 2.0' in rendered
    finally:
        task.cancel()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # one per outage, not one per failed pass
    assert any("works again" in r.getMessage() for r in caplog.records)


async def test_health_names_a_loop_that_is_down(
    app: Sanic[Any, Any], client: httpx.AsyncClient
) -> None:
    loops: LoopHealth = app.ctx.loops
    loops.failed("campaigns", "Redis refused the connection")
    try:
        body = (await client.get("/health")).json()
        assert body["status"] == "degraded"
        assert body["loops_down"] == {"campaigns": "Redis refused the connection"}
    finally:
        loops.ok("campaigns")
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert "loops_down" not in body
