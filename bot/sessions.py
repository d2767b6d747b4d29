"""Runs one channel per active connection: start, stop, and restart with backoff on failure."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channel import Channel, ChannelEvents, ConnectionState, StateChange

__all__ = ["Backoff", "SessionManager"]

log = logging.getLogger("atende.sessions")


@dataclass(frozen=True)
class Backoff:
    """Exponential delays with full jitter, so that many connections don't retry in step."""

    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


class SessionManager:
    """Owns the running channels of this process, keyed by connection id."""

    def __init__(
        self,
        *,
        factory: Callable[[int], Awaitable[Channel]],
        events: ChannelEvents,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_running: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._factory = factory
        self._events = events
        # Called once a started channel is registered: what waited for it can go now (its
        # "connected" may have come from inside start(), before `channel()` could find it).
        self._on_running = on_running
        self._backoff = backoff
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._channels: dict[int, Channel] = {}
        self._starting: dict[int, asyncio.Task[None]] = {}

    def channel(self, connection_id: int) -> Channel | None:
        """The running channel of a connection, if this process runs it."""
        return self._channels.get(connection_id)

    @property
    def running(self) -> list[int]:
        return sorted(self._channels)

    def start(self, connection_id: int) -> asyncio.Task[None]:
        """Start the connection's channel in the background, retrying until it starts."""
        task = self._starting.get(connection_id)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._start_with_retries(connection_id))
            self._starting[connection_id] = task
        return task

    async def stop(self, connection_id: int) -> None:
        """Stop the connection's channel, also one still starting (or waiting to retry)."""
        task = self._starting.pop(connection_id, None)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        channel = self._channels.pop(connection_id, None)
        if channel is not None:
            await channel.stop()

    async def stop_all(self) -> None:
        for connection_id in list({*self._channels, *self._starting}):
            await self.stop(connection_id)

    async def _start_with_retries(self, connection_id: int) -> None:
        attempt = 0
        while True:
            try:
                channel = await self._factory(connection_id)
                try:
                    await channel.start(self._events)
                except asyncio.CancelledError:
                    # Stopped while starting: what it started so far must not run on.
                    await channel.stop()
                    raise
            except Exception as exc:
                log.warning(
                    "connection %s failed to start (attempt %s): %s",
                    connection_id,
                    attempt + 1,
                    exc,
                    extra={"connection_id": connection_id},
                )
                await self._events.on_state(
                    StateChange(connection_id, ConnectionState.disconnected, detail=str(exc))
                )
                await self._sleep(self._backoff.delay(attempt, self._rng))
                attempt += 1
                continue
            self._channels[connection_id] = channel
            if self._on_running is not None:
                try:
                    await self._on_running(connection_id)
                except Exception:
                    log.exception("after connection %s started", connection_id)
            return
