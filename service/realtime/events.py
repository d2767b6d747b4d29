"""Realtime events: built inside a transaction, published only after the outermost one
commits.

A unit of work is `async with transaction_with_events(broker) as batch:`. Opened inside
another unit (an action called by an action, by the pipeline, by a runner), it is a savepoint
of that one and adds to its batch: nobody hears of a change before it is committed for good.
A savepoint that rolls back takes its events with it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from service.realtime.broker import Broker

__all__ = [
    "EventBatch",
    "OuterTransaction",
    "transaction_with_events",
]

log = logging.getLogger("atende.realtime")


class EventBatch:
    """Events collected during a unit of work; nobody hears of a change that rolled back."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(
        self, event_type: str, data: dict[str, Any], *, audience: dict[str, Any]
    ) -> dict[str, Any]:
        """Add an event (its data may be filled in later, before the batch is published)."""
        event = {"type": event_type, "data": data, "audience": audience}
        self.events.append(event)
        return event

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events)

    async def publish(self, broker: Broker) -> None:
        """Publish the events, in their order, in one round trip to the broker."""
        if not self.events:
            return
        events, self.events = self.events, []
        try:
            await broker.publish_many(events)
        except Exception:
            # The change is committed; a lost notification is caught up by re-fetching.
            log.exception("could not publish %s", ", ".join(sorted({e["type"] for e in events})))


# The batch of the unit of work open in this task, if any.
_unit: ContextVar[EventBatch | None] = ContextVar("atende_unit_of_work", default=None)


class OuterTransaction(RuntimeError):
    """A unit of work opened inside a plain transaction, whose commit it cannot wait for."""


@asynccontextmanager
async def transaction_with_events(broker: Broker) -> AsyncIterator[EventBatch]:
    """Commit, then publish the batch; inside another unit, join it (see the module)."""
    outer = _unit.get()
    if outer is not None:
        mark = len(outer.events)
        try:
            async with in_transaction():
                yield outer
        except BaseException:
            del outer.events[mark:]
            raise
        return
    if isinstance(get_connection("default"), TransactionalDBClient):
        # Publishing at this block's end would tell of changes the outer block may still
        # roll back: the outer block must be the unit of work.
        raise OuterTransaction("open the outer transaction with transaction_with_events")
    batch = EventBatch()
    token = _unit.set(batch)
    try:
        async with in_transaction():
            yield batch
    finally:
        _unit.reset(token)
    await batch.publish(broker)
