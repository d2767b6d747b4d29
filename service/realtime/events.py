"""Realtime events: built inside a transaction, published only after it commits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise.transactions import in_transaction

from service.realtime.broker import Broker
from service.tickets.models import Ticket

__all__ = [
    "EventBatch",
    "current_ticket_audience",
    "message_updated",
    "ticket_audience",
    "transaction_with_events",
]

log = logging.getLogger("atende.realtime")


def ticket_audience(ticket: Any) -> dict[str, Any]:
    """Who may see an event about this ticket: its company, status, queue and assignee."""
    return {
        "company_id": ticket.company_id,
        "queue_id": ticket.queue_id,
        "user_id": ticket.user_id,
        "status": str(ticket.status),
        "ticket_id": ticket.id,
    }


async def current_ticket_audience(audience: dict[str, Any]) -> dict[str, Any] | None:
    """The audience of a ticket as it is now, for events that name only the ticket (a
    message's new status); None if the ticket is gone."""
    row = (
        await Ticket.filter(id=audience["ticket_id"], company_id=audience["company_id"])
        .first()
        .values("queue_id", "user_id", "status")
    )
    if row is None:
        return None
    return {
        **audience,
        **row,
        "status": str(row["status"]),
    }


def message_updated(message: Any) -> dict[str, Any]:
    """A message's new status (sent, delivered, read, failed) for the ticket's audience."""
    return {
        "type": "message.updated",
        "data": {"id": message.id, "ticket_id": message.ticket_id, "status": message.status},
        "audience": {"company_id": message.company_id, "ticket_id": message.ticket_id},
    }


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


@asynccontextmanager
async def transaction_with_events(broker: Broker) -> Any:
    """`async with transaction_with_events(broker) as batch:` commits, then publishes batch."""
    batch = EventBatch()
    async with in_transaction():
        yield batch
    await batch.publish(broker)
