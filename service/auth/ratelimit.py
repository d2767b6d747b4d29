"""Fixed-window counters for login attempts: in Redis when there is one, in memory otherwise."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis

__all__ = ["MemoryCounter", "RedisCounter", "WindowCounter"]


class WindowCounter(Protocol):
    async def count(self, key: str) -> tuple[int, int]:
        """How many hits `key` has in its current window, and the seconds until it resets."""

    async def hit(self, key: str, window: int) -> None:
        """Count one hit on `key`; the window starts with the first hit."""

    async def clear(self, key: str) -> None: ...


class MemoryCounter:
    """For the embedded single process; each worker would count alone, so not for several."""

    def __init__(self) -> None:
        self._hits: dict[str, tuple[int, float]] = {}

    async def count(self, key: str) -> tuple[int, int]:
        hits, resets_at = self._hits.get(key, (0, 0.0))
        remaining = resets_at - time.monotonic()
        if remaining <= 0:
            self._hits.pop(key, None)
            return 0, 0
        return hits, int(remaining) + 1

    async def hit(self, key: str, window: int) -> None:
        hits, resets_at = self._hits.get(key, (0, 0.0))
        now = time.monotonic()
        if resets_at <= now:
            hits, resets_at = 0, now + window
        self._hits[key] = (hits + 1, resets_at)
        if len(self._hits) > 100_000:  # bound memory under a spray of distinct keys
            self._hits = {k: v for k, v in self._hits.items() if v[1] > now}

    async def clear(self, key: str) -> None:
        self._hits.pop(key, None)


class RedisCounter:
    """Shared by every worker, so a limit holds across the whole installation."""

    def __init__(self, redis: Redis, prefix: str = "atende:rl:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def count(self, key: str) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._prefix + key)
            pipe.ttl(self._prefix + key)
            value, ttl = await pipe.execute()
        return int(value or 0), max(int(ttl), 0)

    async def hit(self, key: str, window: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._prefix + key)
            pipe.expire(self._prefix + key, window, nx=True)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
