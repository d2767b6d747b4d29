"""The hub outlives its broker's outages: after Redis comes back the sockets hear live events
again, and what was published while the hub was away is delivered from the log."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from service.auth.tokens import Principal
from service.loops import LoopHealth
from service.realtime.broker import RedisBroker
from service.realtime.hub import RealtimeHub, Subscriber
from service.users.models import Role
from tests.processes import private_redis


def _event(n: int) -> dict[str, Any]:
    return {"type": "test.note", "data": {"n": n}, "audience": {"company_id": 1}}


async def _received(subscriber: Subscriber, count: int) -> list[int]:
    numbers: list[int] = []
    async with asyncio.timeout(15):
        while len(numbers) < count:
            frame = await subscriber.frames.get()
            assert frame is not None
            numbers.append(json.loads(frame)["data"]["n"])
    return numbers


async def _resolve(audience: dict[str, Any]) -> dict[str, Any] | None:
    return audience


async def test_live_events_resume_after_redis_restarts_and_nothing_is_missed() -> None:
    with private_redis() as server:
        redis = Redis.from_url(server.url, decode_responses=True, socket_connect_timeout=1)
        broker = RedisBroker(redis)
        health = LoopHealth()
        hub = RealtimeHub(broker=broker, resolve=_resolve, health=health)
        subscriber = Subscriber(Principal(company_id=1, role=Role.admin), frozenset())
        subscriber.release()  # live from the start
        hub.add(subscriber)
        running = asyncio.get_running_loop().create_task(hub.run())
        try:
            # Published until the hub hears one: it has subscribed by then.
            n = 0
            while not subscriber.frames.qsize():
                n += 1
                await broker.publish(_event(n))
                await asyncio.sleep(0.05)
            before = await _received(subscriber, n)
            assert before[-1] == n
            server.stop()
            await asyncio.sleep(1)  # the hub notices, and retries while Redis is down
            assert "realtime" in health.down()
            server.start()
            # Before the hub is back (it waits 0.5 s, then 1 s, ...): only the log has it.
            await broker.publish(_event(100))
            await asyncio.sleep(2)
            await broker.publish(_event(101))  # live, or from the log: once either way
            assert await _received(subscriber, 2) == [100, 101]
            assert not running.done()
            assert health.down() == {}
        finally:
            running.cancel()
            await redis.aclose()
