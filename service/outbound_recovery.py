"""What a crash or a late channel left unsent is sent; what a crash interrupted is never sent
twice.

The sender records its intent (`send_started_at`) just before it calls the channel (the
bot's replies carry it from the statement that stores them, and the process holds them as in
flight until they are sent), and the outcome right after. A pending message of a connection
this worker runs (its lease: no other worker sends for it) that has the intent but no
outcome, and is not being sent here now, was being sent by a process that died: WhatsApp
gives no way to ask whether it arrived, so it is marked failed with a reason the agent
reads, and can be sent again by hand. Everything else
still pending is sent: at once when a connection's channel starts running here, and by the
periodic pass once it has waited longer than STALE (a reconnect nobody noticed, a command
to another worker that was lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import cast

from service.clock import Clock
from service.events import message_updated
from service.outbound import OutboundSender
from service.realtime.broker import Broker
from service.tickets.models import Message, MessageStatus

__all__ = ["INTERRUPTED", "OutboundRecovery"]

log = logging.getLogger("atende.outbound")

INTERRUPTED = (
    "interrupted: the server stopped while sending it; it may not have reached the customer"
)
# Pending and never tried for this long: the periodic pass sends it.
STALE = timedelta(seconds=30)
# An intent this old with no outcome is a dead process's (a live send takes milliseconds;
# the margin covers a lease changing hands while the old worker still finishes a send).
_ORPHANED = timedelta(seconds=10)


class OutboundRecovery:
    def __init__(
        self,
        *,
        sender: OutboundSender,
        broker: Broker,
        clock: Clock,
        running: Callable[[], Sequence[int]],
    ) -> None:
        self._sender = sender
        self._broker = broker
        self._clock = clock
        self._running = running

    async def run_pass(self) -> None:
        """The periodic pass over every connection this worker runs."""
        connection_ids = list(self._running())
        if not connection_ids:
            return
        await self._fail_interrupted(connection_ids)
        stale = await Message.filter(
            connection_id__in=connection_ids,
            status=MessageStatus.pending,
            is_note=False,
            send_started_at__isnull=True,
            created_at__lt=self._clock() - STALE,
        ).values_list("id", flat=True)
        if stale:
            log.info("sending %s messages left pending", len(stale))
            await self._sender.send(sorted(cast(list[int], stale)))

    async def connection_running(self, connection_id: int) -> None:
        """A connection's channel runs here now: settle what a crash interrupted, then send
        everything still pending (without waiting for its "connected", which may have come
        before the channel was registered)."""
        await self._fail_interrupted([connection_id])
        await self._sender.retry_pending(connection_id)

    async def _fail_interrupted(self, connection_ids: list[int]) -> int:
        in_flight = self._sender.in_flight
        cutoff = self._clock() - _ORPHANED
        candidates = await Message.filter(
            connection_id__in=connection_ids,
            status=MessageStatus.pending,
            send_started_at__isnull=False,
            send_started_at__lt=cutoff,
        )
        interrupted = [m for m in candidates if m.id not in in_flight]
        if not interrupted:
            return 0
        ids = [m.id for m in interrupted]
        changed = await Message.filter(id__in=ids, status=MessageStatus.pending).update(
            status=MessageStatus.failed, error=INTERRUPTED
        )
        log.warning("%s messages interrupted by a crash marked failed: %s", changed, ids)
        for message in interrupted:
            message.status, message.error = MessageStatus.failed, INTERRUPTED
        try:
            await self._broker.publish_many([message_updated(m) for m in interrupted])
        except Exception:
            log.exception("could not publish %s message statuses", len(interrupted))
        return int(changed)
