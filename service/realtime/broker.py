"""Carries realtime events to every worker: Redis pub/sub, or in-process in embedded mode.

Events meant for people (those with an "audience") are also logged under an id that grows
with time, `<milliseconds>-<sequence>` as Redis streams write them, so that a socket that
reconnects can be replayed what it missed. Internal events (no audience: commands between
workers) are only passed on."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Protocol, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

__all__ = ["Broker", "InProcessBroker", "RedisBroker", "event_id_key"]

CHANNEL = "atende:events"
LOG_KEY = "atende:events:log"
LOG_SIZE = 50_000

log = logging.getLogger("atende.realtime")

# One round trip, and the log order is the delivery order: the id is taken and the event
# published in the same atomic step.
_PUBLISH_LOGGED = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[1])
return id
"""


def event_id_key(event_id: str) -> tuple[int, int]:
    """Event ids in their order (plain string order is wrong once the numbers grow a digit)."""
    milliseconds, _, sequence = event_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _valid_id(event_id: str) -> bool:
    milliseconds, dash, sequence = event_id.partition("-")
    return milliseconds.isdigit() and (not dash or sequence.isdigit())


class Broker(Protocol):
    async def publish(self, event: dict[str, Any]) -> None: ...

    def listen(self) -> AsyncIterator[dict[str, Any]]: ...

    async def replay(self, since: str) -> list[dict[str, Any]] | None:
        """The logged events after `since`, oldest first; None when some were already
        dropped from the log (the listener must re-fetch instead)."""

    async def latest_id(self) -> str: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """One process, many listeners: each gets its own queue."""

    def __init__(self, log_size: int = 10_000) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._dropped_any = False
        self._last = (0, 0)
        self._sequence = itertools.count()

    async def publish(self, event: dict[str, Any]) -> None:
        if "audience" in event:
            event = {**event, "id": self._next_id()}
            if len(self._log) == self._log.maxlen:
                self._dropped_any = True
            self._log.append(event)
        for queue in self._queues:
            queue.put_nowait(event)

    def _next_id(self) -> str:
        now = int(time.time() * 1000)
        last_ms, last_seq = self._last
        self._last = (now, 0) if now > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def replay(self, since: str) -> list[dict[str, Any]] | None:
        if not _valid_id(since):
            return None
        after = event_id_key(since)
        if self._dropped_any and self._log and event_id_key(self._log[0]["id"]) > after:
            return None
        return [event for event in self._log if event_id_key(event["id"]) > after]

    async def latest_id(self) -> str:
        return self._log[-1]["id"] if self._log else "0-0"

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    """Events published by any worker reach the listeners of every worker."""

    def __init__(self, redis: Redis, log_size: int = LOG_SIZE) -> None:
        self._redis = redis
        self._log_size = log_size
        self._publish_logged = redis.register_script(_PUBLISH_LOGGED)
        # Pub/sub channels ignore the database number: name the database in the channel so
        # installations (and test runs) sharing a Redis server on other databases stay apart.
        database = redis.connection_pool.connection_kwargs.get("db", 0)
        self._channel = f"{CHANNEL}:{database}"

    async def publish(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event, separators=(",", ":"))
        if "audience" in event:
            keys = [LOG_KEY, self._channel]
            await self._publish_logged(keys=keys, args=[payload, self._log_size])
        else:
            await self._redis.publish(self._channel, "\n" + payload)

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    event = _parse(message["data"])
                except ValueError:
                    log.warning("unreadable event on %s dropped", self._channel)
                    continue
                yield event
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def replay(self, since: str) -> list[dict[str, Any]] | None:
        if not _valid_id(since):
            return None
        try:
            info = await self._redis.xinfo_stream(LOG_KEY)
        except ResponseError:  # no log yet: nothing was published, nothing was missed
            return []
        if _dropped_after(info, since):
            return None
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await self._redis.xrange(LOG_KEY, min=f"({since}", max="+"),
        )
        return [{**json.loads(fields["e"]), "id": entry_id} for entry_id, fields in entries]

    async def latest_id(self) -> str:
        last = await self._redis.xrevrange(LOG_KEY, count=1)
        return str(last[0][0]) if last else "0-0"

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def _dropped_after(info: dict[str, Any], since: str) -> bool:
    """Whether the log may have lost events newer than `since`. Capping the log (XADD
    MAXLEN) drops its oldest entries without counting them in max-deleted-entry-id (that
    is XDEL's), so: entries were dropped, and `since` is older than the oldest one left.
    When `since` was itself the newest one dropped, nothing was missed, but a resync is the
    safe answer."""
    length = int(info.get("length") or 0)
    added = int(info.get("entries-added") or length)  # Redis 7; older ones never say
    deleted = str(info.get("max-deleted-entry-id") or "0-0")
    if deleted != "0-0" and event_id_key(deleted) > event_id_key(since):
        return True
    first = info.get("first-entry")
    if added <= length or not first:
        return False
    return event_id_key(str(first[0])) > event_id_key(since)


def _parse(data: str) -> dict[str, Any]:
    event_id, _, payload = data.partition("\n")
    event = json.loads(payload)
    if not isinstance(event, dict):
        raise ValueError("not an event")
    if event_id:
        event["id"] = event_id
    return event
