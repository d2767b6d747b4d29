"""Fixed-window counters for login attempts: in Redis when there is one, in memory otherwise,
and in memory for as long as Redis does not answer (FallbackCounter)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["FallbackCounter", "MemoryCounter", "RedisCounter", "WindowCounter"]

log = logging.getLogger("atende.auth")
T = TypeVar("T")


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


class FallbackCounter:
    """The shared counter while it answers; this process's own counter while it does not.

    Why: a login must not fail because Redis is down. Counting alone for a while is weaker
    (each worker counts its own attempts) but still limits guessing, and it is logged. The
    shared counter is tried again every `retry_seconds`; each call waits at most
    `timeout_seconds` for it, so a Redis that hangs costs a login that much, once.
    """

    def __init__(
        self,
        shared: WindowCounter,
        *,
        timeout_seconds: float = 0.5,
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._local = MemoryCounter()
        self._timeout = timeout_seconds
        self._retry = retry_seconds
        self._monotonic = monotonic
        self._down_since: float | None = None
        self._tried_at = 0.0

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    async def _call(
        self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        now = self._monotonic()
        if self._down_since is not None and now - self._tried_at < self._retry:
            return await local()
        self._tried_at = now
        try:
            async with asyncio.timeout(self._timeout):
                result = await shared()
        except (RedisError, OSError, TimeoutError) as error:
            if self._down_since is None:
                self._down_since = now
                log.warning("login limits counted in this process: Redis failed (%s)", error)
            return await local()
        if self._down_since is not None:
            log.warning(
                "login limits shared again: Redis answers after %.0f s", now - self._down_since
            )
            self._down_since = None
        return result

    async def count(self, key: str) -> tuple[int, int]:
        return await self._call(lambda: self._shared.count(key), lambda: self._local.count(key))

    async def hit(self, key: str, window: int) -> None:
        await self._call(
            lambda: self._shared.hit(key, window), lambda: self._local.hit(key, window)
        )

    async def clear(self, key: str) -> None:
        await self._local.clear(key)
        await self._call(lambda: self._shared.clear(key), lambda: self._local.clear(key))
