"""Carries realtime events to every worker: Redis pub/sub, or in-process in embedded mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.asyncio import Redis

__all__ = ["Broker", "InProcessBroker", "RedisBroker"]

CHANNEL = "atende:events"


class Broker(Protocol):
    async def publish(self, event: dict[str, Any]) -> None: ...

    def listen(self) -> AsyncIterator[dict[str, Any]]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """One process, many listeners: each gets its own queue."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    async def publish(self, event: dict[str, Any]) -> None:
        for queue in self._queues:
            queue.put_nowait(event)

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    """Events published by any worker reach the listeners of every worker."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, event: dict[str, Any]) -> None:
        await self._redis.publish(CHANNEL, json.dumps(event, separators=(",", ":")))

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()
