"""The one place that sends a message: stored first as pending, then handed to its channel."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from bot.channel import (
    Channel,
    ChannelUnavailable,
    MediaKind,
    MediaRef,
    OutboundMessage,
    Receipt,
    SendFailed,
)
from service.clock import Clock
from service.realtime.broker import Broker
from service.realtime.events import message_updated
from service.tickets.models import Message, MessageStatus

__all__ = ["OutboundSender", "apply_receipt"]

log = logging.getLogger("atende.outbound")

# Receipts only move a message forward: a late "delivered" never undoes a "read".
_ORDER = {
    MessageStatus.pending: 0,
    MessageStatus.sent: 1,
    MessageStatus.delivered: 2,
    MessageStatus.read: 3,
}
_MAX_EARLY = 10_000
_RECEIPT_STATUS = {
    "delivered": MessageStatus.delivered,
    "read": MessageStatus.read,
    "played": MessageStatus.read,
}


class OutboundSender:
    """Sends stored pending messages through the channel that runs their connection.

    A connection that this worker does not run is handed to `elsewhere` (the hub asks the
    worker that runs it to send what is pending)."""

    def __init__(
        self,
        *,
        channels: Callable[[int], Channel | None],
        broker: Broker,
        clock: Clock,
        elsewhere: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._channels = channels
        self._elsewhere = elsewhere
        self._broker = broker
        self._clock = clock
        # Receipts that came before the send that they acknowledge was recorded (the channel
        # may acknowledge while the sender is still storing the channel's id).
        self._early: OrderedDict[tuple[int, str], Receipt] = OrderedDict()
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def receipt(self, receipt: Receipt) -> Message | None:
        """Apply a receipt; one for a send not recorded yet is applied when it is."""
        message = await apply_receipt(receipt)
        if message is not None:
            return message
        key = (receipt.connection_id, receipt.channel_message_id)
        self._early[key] = receipt
        while len(self._early) > _MAX_EARLY:
            self._early.popitem(last=False)
        # The send may have been recorded meanwhile (and found nothing to apply): try again.
        message = await apply_receipt(receipt)
        if message is not None:
            self._early.pop(key, None)
        return message

    async def send(self, message_ids: Sequence[int]) -> None:
        """Send these messages in order; unavailable channels leave them pending.

        One send at a time per connection, and only what is still pending once it is our
        turn: concurrent callers (a reconnect's retry, an agent's message, the bot's replies)
        never send a message twice nor out of order."""
        if not message_ids:
            return
        wanted = sorted(set(message_ids))
        connection_ids = (
            await Message.filter(id__in=wanted).distinct().values_list("connection_id", flat=True)
        )
        for connection_id in sorted(cast(list[int], connection_ids)):
            if self._channels(connection_id) is None:
                if self._elsewhere is not None:
                    await self._elsewhere(connection_id)
                continue  # stays pending: its own worker sends it, or a reconnect does
            async with self._locks[connection_id]:
                messages = await Message.filter(
                    id__in=wanted, connection_id=connection_id, status=MessageStatus.pending
                ).order_by("id")
                numbers = await _numbers_of(messages)
                for message in messages:
                    await self._send_one(message, numbers[message.id])

    async def send_pending_of(self, ticket_id: int) -> None:
        """Send what a ticket action left pending (an agent's message, a farewell)."""
        ids = await Message.filter(
            ticket_id=ticket_id, status=MessageStatus.pending, is_note=False
        ).values_list("id", flat=True)
        await self.send(sorted(cast(list[int], ids)))

    async def retry_pending(self, connection_id: int) -> None:
        """After a reconnect: everything still pending on the connection, oldest first."""
        ids = await Message.filter(
            connection_id=connection_id, status=MessageStatus.pending, is_note=False
        ).values_list("id", flat=True)
        await self.send(sorted(cast(list[int], ids)))

    async def _send_one(self, message: Message, to: str) -> None:
        channel = self._channels(message.connection_id)  # type: ignore[attr-defined]
        if channel is None:
            return  # not run by this process (or not started): stays pending
        outbound = OutboundMessage(
            connection_id=message.connection_id,  # type: ignore[attr-defined]
            to=to,
            text=message.body,
            message_id=message.id,
            media=_media_of(message),
            quoted_id=message.quoted_channel_id,
        )
        try:
            channel_id = await channel.send(outbound)
        except ChannelUnavailable:
            return
        except SendFailed as failure:
            await Message.filter(id=message.id).update(
                status=MessageStatus.failed, error=failure.reason
            )
            await self._announce(message, MessageStatus.failed)
            return
        await Message.filter(id=message.id, status=MessageStatus.pending).update(
            status=MessageStatus.sent, channel_message_id=channel_id
        )
        await self._announce(message, MessageStatus.sent)
        early = self._early.pop((message.connection_id, channel_id), None)  # type: ignore[attr-defined]
        if early is not None:
            updated = await apply_receipt(early)
            if updated is not None:
                await self._broker.publish(message_updated(updated))

    async def _announce(self, message: Message, status: MessageStatus) -> None:
        message.status = status
        await self._broker.publish(message_updated(message))


def _media_of(message: Message) -> MediaRef | None:
    if not message.media_type or not message.media_path:
        return None
    return MediaRef(
        kind=cast(MediaKind, message.media_type),
        mime_type=message.media_mime,
        filename=message.media_name,
        path=message.media_path,
        size=message.media_size,
    )


async def _numbers_of(messages: Sequence[Message]) -> dict[int, str]:
    from service.tickets.models import Ticket

    ticket_ids = {m.ticket_id for m in messages}  # type: ignore[attr-defined]
    rows = await Ticket.filter(id__in=list(ticket_ids)).values_list("id", "contact__number")
    by_ticket = dict(rows)
    return {m.id: by_ticket[m.ticket_id] for m in messages}  # type: ignore[attr-defined]


async def apply_receipt(receipt: Receipt) -> Message | None:
    """Move the message a receipt names forward (never backward); None if unknown."""
    status = _RECEIPT_STATUS[receipt.status]
    message = await Message.get_or_none(
        connection_id=receipt.connection_id, channel_message_id=receipt.channel_message_id
    )
    if message is None or _ORDER.get(MessageStatus(message.status), 9) >= _ORDER[status]:
        return None
    message.status = status
    await message.save(update_fields=["status"])
    return message
