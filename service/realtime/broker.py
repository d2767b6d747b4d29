"""Carries realtime events to every worker: Redis pub/sub, or in-process in embedded mode.

Events meant for people (those with an "audience") are also logged under an id that grows
with time, `<milliseconds>-<sequence>` as Redis streams write them, so that a socket that
reconnects can be replayed what it missed. Internal events (no audience: commands between
workers) are only passed on, on a channel of their own, so that a listener for commands
alone never reads (nor parses) the stream of events for people.

`publish_many` publishes a unit of work's events in one round trip, logged and passed on in
their order; `publish` is one event of it."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

__all__ = ["SUBSCRIBED", "Broker", "InProcessBroker", "RedisBroker", "event_id_key"]

CHANNEL = "atende:events"
LOG_KEY = "atende:events:log"
LOG_SIZE = 50_000
# At most this many events in one round trip (the batches of many publishers grouped).
_GROUP_EVENTS = 500

log = logging.getLogger("atende.realtime")

# What `listen` yields each time its subscription is (again) in place: everything published
# from then on reaches the listener, and what was published before can be read in the log.
# Internal (no audience), so consumers that do not care pass it by.
SUBSCRIBED = "broker.subscribed"

# One round trip for a batch of events, and the log order is the delivery order: each event
# with an audience (flag "1") takes its id and all are published in the same atomic step, as
# one pub/sub message of `id\npayload` lines (internal events, flag "0", have an empty id
# and go to their own channel). A payload is compact JSON: it holds no newline.
_PUBLISH_BATCH = """
local logged, internal = {}, {}
for i = 2, #ARGV, 2 do
  if ARGV[i] == '1' then
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i + 1])
    logged[#logged + 1] = id .. '\\n' .. ARGV[i + 1]
  else
    internal[#internal + 1] = '\\n' .. ARGV[i + 1]
  end
end
if #logged > 0 then
  redis.call('PUBLISH', KEYS[2], table.concat(logged, '\\n'))
end
if #internal > 0 then
  redis.call('PUBLISH', KEYS[3], table.concat(internal, '\\n'))
end
return #logged
"""


def event_id_key(event_id: str) -> tuple[int, int]:
    """Event ids in their order (plain string order is wrong once the numbers grow a digit)."""
    milliseconds, _, sequence = event_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _valid_id(event_id: str) -> bool:
    milliseconds, dash, sequence = event_id.partition("-")
    return milliseconds.isdigit() and (not dash or sequence.isdigit())


class Broker(Protocol):
    async def publish(self, event: dict[str, Any]) -> None:
        """`publish_many([event])`."""

    async def publish_many(self, events: Sequence[dict[str, Any]]) -> None:
        """Publish these events in their order, at once (one round trip to Redis)."""

    def listen(self, *, internal_only: bool = False) -> AsyncIterator[dict[str, Any]]:
        """Every event, or (`internal_only`) only those without an audience; a SUBSCRIBED
        event first, and again after every reconnection. It may end or raise when the
        broker fails: listen again."""

    async def replay(self, since: str) -> list[dict[str, Any]] | None:
        """The logged events after `since`, oldest first; None when some were already
        dropped from the log (the listener must re-fetch instead)."""

    async def latest_id(self) -> str: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """One process, many listeners: each gets its own queue."""

    def __init__(self, log_size: int = 10_000) -> None:
        # Each listener's queue, and whether it hears internal events only.
        self._queues: dict[asyncio.Queue[dict[str, Any]], bool] = {}
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._dropped_any = False
        self._last = (0, 0)
        self._sequence = itertools.count()

    async def publish(self, event: dict[str, Any]) -> None:
        await self.publish_many([event])

    async def publish_many(self, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            if "audience" in event:
                event = {**event, "id": self._next_id()}
                if len(self._log) == self._log.maxlen:
                    self._dropped_any = True
                self._log.append(event)
            for queue, internal_only in self._queues.items():
                if not internal_only or "audience" not in event:
                    queue.put_nowait(event)

    def _next_id(self) -> str:
        now = int(time.time() * 1000)
        last_ms, last_seq = self._last
        self._last = (now, 0) if now > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"

    async def listen(self, *, internal_only: bool = False) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[queue] = internal_only
        try:
            yield {"type": SUBSCRIBED, "data": None}
            while True:
                yield await queue.get()
        finally:
            self._queues.pop(queue, None)

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
    """Events published by any worker reach the listeners of every worker.

    Publishing is grouped: the batches that tasks publish while a round trip is on its way
    (or in the same turn of the event loop) go together in the next one, in the order they
    were published, and each `publish_many` returns once its own events are published (or
    raises what publishing them raised). Under load this makes one Redis call, and one
    pub/sub message for every listener, out of many."""

    def __init__(self, redis: Redis, log_size: int = LOG_SIZE) -> None:
        self._redis = redis
        self._log_size = log_size
        self._publish_batch = redis.register_script(_PUBLISH_BATCH)
        # Pub/sub channels ignore the database number: name the database in the channel so
        # installations (and test runs) sharing a Redis server on other databases stay apart.
        database = redis.connection_pool.connection_kwargs.get("db", 0)
        self._channel = f"{CHANNEL}:{database}"
        self._internal = f"{CHANNEL}:{database}:internal"
        self._keys = [LOG_KEY, self._channel, self._internal]
        # What waits for the next round trip: each batch's arguments and its caller's future.
        self._waiting: deque[tuple[list[str], asyncio.Future[None]]] = deque()
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, event: dict[str, Any]) -> None:
        await self.publish_many([event])

    async def publish_many(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        args: list[str] = []
        for event in events:
            args += ["1" if "audience" in event else "0", _dumps(event)]
        loop = asyncio.get_running_loop()
        published: asyncio.Future[None] = loop.create_future()
        self._waiting.append((args, published))
        sender = self._sender
        if sender is None or sender.done() or sender.get_loop() is not loop:
            self._sender = loop.create_task(self._send_waiting())
        await published

    async def _send_waiting(self) -> None:
        """Publish what waits, a round trip at a time, until nothing does."""
        while self._waiting:
            group, size = [], 0
            while self._waiting and size < _GROUP_EVENTS:
                args, published = self._waiting.popleft()
                group.append((args, published))
                size += len(args) // 2
            flat: list[Any] = [self._log_size]
            for args, _ in group:
                flat += args
            try:
                await self._publish_batch(keys=self._keys, args=flat)
            except BaseException as exc:
                # Cancelled (the broker closes): its publishers must not wait forever.
                error = exc if isinstance(exc, Exception) else ConnectionError("not published")
                for _, published in group:
                    if not published.done():
                        published.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, published in group:
                    if not published.done():
                        published.set_result(None)

    async def listen(self, *, internal_only: bool = False) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub()
        channels = [self._internal] if internal_only else [self._channel, self._internal]
        await pubsub.subscribe(*channels)
        try:
            async for message in pubsub.listen():
                kind = message.get("type")
                if kind == "subscribe" and _text(message.get("channel")) == channels[0]:
                    # The first subscription, or redis-py's own after it reconnected: the
                    # events published while it was away are only in the log.
                    yield {"type": SUBSCRIBED, "data": None}
                if kind != "message":
                    continue
                try:
                    events = _parse(message["data"])
                except ValueError:
                    log.warning("unreadable events on %s dropped", message.get("channel"))
                    continue
                for event in events:
                    yield event
        finally:
            await pubsub.aclose()

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
        if self._sender is not None:
            self._sender.cancel()
        while self._waiting:
            _, published = self._waiting.popleft()
            if not published.done():
                published.set_exception(ConnectionError("the broker is closed"))
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


_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _parse(data: str) -> list[dict[str, Any]]:
    """The events of one pub/sub message: lines of an id (empty for internal events) then
    the event's JSON."""
    lines = data.split("\n")
    if len(lines) % 2:
        raise ValueError("not a batch of events")
    events = []
    for event_id, payload in zip(lines[::2], lines[1::2], strict=True):
        event = json.loads(payload)
        if not isinstance(event, dict):
            raise ValueError("not an event")
        if event_id:
            event["id"] = event_id
        events.append(event)
    return events


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
