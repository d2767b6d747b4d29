"""Sends scheduled messages when they fall due.

Each due row is claimed with a conditional UPDATE (pending → sent) in the transaction that
stores its ticket message, so any number of workers may run this loop at once and a
message still goes out once. Time comes from the injected clock."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from service.campaigns.models import ScheduledMessage, ScheduledStatus
from service.clock import Clock
from service.errors import ApiError
from service.realtime.broker import Broker
from service.scheduled.actions import (
    Delivery,
    deliver_scheduled,
    mark_failed,
)

__all__ = ["ScheduledRunner"]

log = logging.getLogger("atende.scheduled")


class _Sender(Protocol):
    async def send_pending_of(self, ticket_id: int) -> None: ...


class _Channels(Protocol):
    """What the runner needs of service.channels.ChannelHub."""

    broker: Broker
    sender: _Sender


class ScheduledRunner:
    def __init__(self, *, clock: Clock, channels: _Channels, batch: int = 100) -> None:
        self._clock = clock
        self._channels = channels
        self._batch = batch

    async def tick(self) -> int:
        """Send every message due now (up to one batch); returns how many this call sent."""
        now = self._clock()
        due = await (
            ScheduledMessage.filter(status=ScheduledStatus.pending, send_at__lte=now)
            .order_by("send_at", "id")
            .limit(self._batch)
            .values_list("id", flat=True)
        )
        sent = 0
        for scheduled_id in due:
            if await self._one(int(scheduled_id), now):  # type: ignore[call-overload]
                sent += 1
        return sent

    async def _one(self, scheduled_id: int, now: Any) -> bool:
        try:
            delivery = await deliver_scheduled(
                scheduled_id=scheduled_id, now=now, broker=self._channels.broker
            )
        except ApiError as exc:  # e.g. the contact is gone, or a conflict on the ticket
            await self._failed(scheduled_id, exc.message)
            return False
        except Exception as exc:
            log.exception("scheduled message %s could not be stored", scheduled_id)
            await self._failed(scheduled_id, f"internal error: {type(exc).__name__}")
            return False
        if delivery is None:
            return False
        await self._committed(delivery)
        return True

    async def _failed(self, scheduled_id: int, reason: str) -> None:
        await mark_failed(scheduled_id=scheduled_id, reason=reason, broker=self._channels.broker)

    async def _committed(self, delivery: Delivery) -> None:
        """Send the message the delivery stored (its events are published already)."""
        ticket, row = delivery.ticket, delivery.scheduled
        try:
            await self._channels.sender.send_pending_of(ticket.id)
        except Exception:
            # Stored as pending: the sender retries it when the connection is back.
            log.exception("scheduled message %s: sending failed for now", row.id)
