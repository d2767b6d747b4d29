"""The one place that sends a message: stored first as pending, then handed to its channel.

Order is kept per chat (a connection and a customer's number): one send at a time in each
chat, so a customer reads a chat's messages in the order they were stored, while different
chats of the same connection send side by side. A connection is run by one worker only (its
lease), so an in-process lock per chat is enough."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

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
from service.events import message_updated
from service.realtime.broker import Broker
from service.sql import execute, fetch
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
_MAX_CHAT_LOCKS = 10_000
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
        # Sends whose channel id is being stored now: their receipts wait without a query.
        self._recording: set[tuple[int, str]] = set()
        self._chats: OrderedDict[tuple[int, str], _Chat] = OrderedDict()
        # Sends are numbered as they complete; a chat remembers its last one (the chats it
        # forgot, the highest of theirs), which is how `send_stored` knows its rows are fresh.
        self._sends = 0
        self._forgotten = 0
        # The messages whose channel call is under way in this process, or about to be (all
        # others with a send_started_at and no outcome were being sent by a process that died).
        self._in_flight: set[int] = set()
        # Of those, the ones stored with their intent already (`hold`): no claim to write.
        self._held: set[int] = set()

    @property
    def in_flight(self) -> frozenset[int]:
        return frozenset(self._in_flight)

    def holds(self, receipt: Receipt) -> bool:
        """Whether the receipt is for a send of ours being recorded right now (a channel
        that acknowledges at once): kept, and applied once the send is recorded, so nobody
        else need look for its message."""
        key = (receipt.connection_id, receipt.channel_message_id)
        if key not in self._recording:
            return False
        self._keep_early(key, receipt)
        return True

    async def receipt(self, receipt: Receipt) -> Message | None:
        """Apply a receipt; one for a send not recorded yet is applied when it is."""
        if self.holds(receipt):
            return None
        key = (receipt.connection_id, receipt.channel_message_id)
        message = await apply_receipt(receipt)
        if message is not None:
            return message
        self._keep_early(key, receipt)
        # The send may have been recorded meanwhile (and found nothing to apply): try again.
        message = await apply_receipt(receipt)
        if message is not None:
            self._early.pop(key, None)
        return message

    def take_early(self, connection_id: int, channel_message_id: str) -> Receipt | None:
        """The receipt kept for a send recorded elsewhere (a campaign's), now that it is."""
        return self._early.pop((connection_id, channel_message_id), None)

    async def send_outside(
        self,
        message: OutboundMessage,
        channel: Channel,
        record: Callable[[str], Awaitable[None]],
    ) -> tuple[str, Receipt | None]:
        """Send a message that is no ticket's (a campaign's, claimed by its caller) in its
        chat's turn, so it never lands between a conversation's messages to that number.
        `record` stores the channel's id; a receipt that came meanwhile is returned with it,
        for the caller to apply. The channel's errors are the caller's to handle."""
        state = self._chat((message.connection_id, message.to))
        async with state.lock:
            channel_id = await channel.send(message)
            key = (message.connection_id, channel_id)
            self._recording.add(key)
            try:
                await record(channel_id)
            finally:
                self._recording.discard(key)
        return channel_id, self._early.pop(key, None)

    def _keep_early(self, key: tuple[int, str], receipt: Receipt) -> None:
        kept = self._early.get(key)
        if (
            kept is None
            or _ORDER[_RECEIPT_STATUS[kept.status]] < _ORDER[_RECEIPT_STATUS[receipt.status]]
        ):
            self._early[key] = receipt
        while len(self._early) > _MAX_EARLY:
            self._early.popitem(last=False)

    async def send(self, message_ids: Sequence[int]) -> None:
        """Send these messages in order; unavailable channels leave them pending.

        One send at a time per chat, and only what is still pending once it is our turn:
        concurrent callers (a reconnect's retry, an agent's message, the bot's replies)
        never send a message twice nor out of order."""
        if not message_ids:
            return
        rows = await Message.filter(
            id__in=sorted(set(message_ids)), status=MessageStatus.pending
        ).values_list("id", "connection_id", "ticket__contact__number")
        chats: dict[tuple[int, str], list[int]] = {}
        for message_id, connection_id, number in sorted(cast(list[tuple[int, int, str]], rows)):
            chats.setdefault((connection_id, number), []).append(message_id)
        elsewhere: set[int] = set()
        for (connection_id, number), ids in chats.items():
            if self._channels(connection_id) is None:
                if self._elsewhere is not None and connection_id not in elsewhere:
                    elsewhere.add(connection_id)
                    await self._elsewhere(connection_id)
                continue  # stays pending: its own worker sends it, or a reconnect does
            state = self._chat((connection_id, number))
            async with state.lock:
                messages = await Message.filter(id__in=ids, status=MessageStatus.pending).order_by(
                    "id"
                )
                await self._send_chat(messages, number, state)

    def sends_here(self, connection_id: int) -> bool:
        """Whether this process runs the connection's channel now. Replies stored for it are
        written with their send's intent (`send_started_at`) and `hold` them: a statement
        fewer per reply on the hot path. The price: a process that dies between the commit
        and the channel call leaves them "interrupted" rather than pending (the window is
        one `send_stored`, without any query before its first send)."""
        return self._channels(connection_id) is not None

    def hold(self, messages: Sequence[Message]) -> None:
        """Messages about to be committed with their intent, for `send_stored`: in flight from
        now on, so that recovery never takes them for a dead process's."""
        ids = [m.id for m in messages if m.send_started_at is not None]
        self._in_flight.update(ids)
        self._held.update(ids)

    def release(self, messages: Sequence[Message]) -> None:
        """Held messages whose transaction did not commit."""
        ids = {m.id for m in messages}
        self._in_flight.difference_update(ids)
        self._held.difference_update(ids)

    def mark(self) -> int:
        """Now, in this sender's count of sends: take it before the transaction that stores
        the messages to hand to `send_stored` commits."""
        return self._sends

    async def send_stored(self, messages: Sequence[Message], *, number: str, mark: int) -> None:
        """Send messages of one chat that the caller stored pending, in order, without
        reading them again unless a send in their chat completed after `mark` (it may have
        sent them: a reconnect's retry can see them once they are committed)."""
        if not messages:
            return
        connection_id: int = messages[0].connection_id  # type: ignore[attr-defined]
        if self._channels(connection_id) is None:
            await self._unhold(messages)
            if self._elsewhere is not None:
                await self._elsewhere(connection_id)
            return  # stays pending: its own worker sends it, or a reconnect does
        state = self._chat((connection_id, number))
        async with state.lock:
            rows = sorted(messages, key=lambda m: m.id)
            # Held rows are nobody else's to send; others may have been sent meanwhile.
            if max(state.last_send, self._forgotten) > mark and not self._held.issuperset(
                m.id for m in rows
            ):
                rows = await Message.filter(
                    id__in=[m.id for m in rows], status=MessageStatus.pending
                ).order_by("id")
            try:
                await self._send_chat(rows, number, state)
            finally:
                await self._unhold(rows)

    async def _unhold(self, messages: Sequence[Message]) -> None:
        """Held messages that were not sent (the channel went away): pending again, free for
        a reconnect's retry."""
        ids = [m.id for m in messages if m.id in self._held]
        if not ids:
            return
        self._in_flight.difference_update(ids)
        self._held.difference_update(ids)
        await Message.filter(id__in=ids, status=MessageStatus.pending).update(send_started_at=None)

    async def _send_chat(self, messages: Sequence[Message], to: str, state: _Chat) -> None:
        """Send a chat's messages in order (its lock held) and publish their new statuses
        in one round trip. Until then their receipts wait (kept early): a receipt's status
        is never published before the `sent` it follows."""
        events: list[dict[str, Any]] = []
        recorded: list[tuple[int, str]] = []
        try:
            for message in messages:
                await self._send_one(message, to, state, events, recorded)
        finally:
            # Also when a send raised: the statuses stored before it are told.
            try:
                await self._publish(events)
            finally:
                self._recording.difference_update(recorded)
        # Receipts that came meanwhile (none, with a channel that acknowledges at once).
        late = [receipt for key in recorded if (receipt := self._early.pop(key, None))]
        events = []
        for receipt in late:
            updated = await apply_receipt(receipt)
            if updated is not None:
                events.append(message_updated(updated))
        await self._publish(events)

    async def _publish(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        try:
            await self._broker.publish_many(events)
        except Exception:
            # The statuses are stored; a lost notification is caught up by re-fetching.
            log.exception("could not publish %s message statuses", len(events))

    def _chat(self, chat: tuple[int, str]) -> _Chat:
        """The chat's lock and last send; the least recently used idle ones are forgotten."""
        state = self._chats.pop(chat, None) or _Chat()
        self._chats[chat] = state
        while len(self._chats) > _MAX_CHAT_LOCKS:
            oldest, old = next(iter(self._chats.items()))
            if old.lock.locked():
                break
            del self._chats[oldest]
            self._forgotten = max(self._forgotten, old.last_send)
        return state

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

    def _sent(self, state: _Chat) -> None:
        self._sends += 1
        state.last_send = self._sends

    async def _send_one(
        self,
        message: Message,
        to: str,
        state: _Chat,
        events: list[dict[str, Any]],
        recorded: list[tuple[int, str]],
    ) -> None:
        """Send one message and record how it went; its realtime events go to `events`, and
        its key to `recorded` (its receipts are held until the caller is done)."""
        channel = self._channels(message.connection_id)  # type: ignore[attr-defined]
        if channel is None:
            return  # not run by this process (or not started): stays pending (or unheld)
        outbound = OutboundMessage(
            connection_id=message.connection_id,  # type: ignore[attr-defined]
            to=to,
            text=message.body,
            message_id=message.id,
            media=_media_of(message),
            quoted_id=message.quoted_channel_id,
        )
        # The intent, recorded before the channel is called (or stored with the message: a
        # held one): after a crash, a message with it and no outcome may have left, and is
        # never sent again (service.outbound_recovery).
        if message.id in self._held:
            self._held.discard(message.id)
        elif not await execute(_CLAIM_SQL, now=self._clock(), id=message.id):
            return  # sent meanwhile, or left uncertain by a crash
        self._in_flight.add(message.id)
        try:
            try:
                channel_id = await channel.send(outbound)
            except ChannelUnavailable:
                await execute(_UNCLAIM_SQL, id=message.id)  # it did not leave: free to retry
                return
            except SendFailed as failure:
                await Message.filter(id=message.id).update(
                    status=MessageStatus.failed, error=failure.reason
                )
                self._sent(state)
                events.append(_with_status(message, MessageStatus.failed))
                return
            key = (message.connection_id, channel_id)  # type: ignore[attr-defined]
            self._recording.add(key)
            recorded.append(key)
            # A channel that acknowledges at once (the sandbox) has done so once it runs: its
            # receipt is written with the send, in the same statement.
            await asyncio.sleep(0)
            early = self._early.pop(key, None)
            status = MessageStatus.sent if early is None else _RECEIPT_STATUS[early.status]
            await execute(
                _SENT_SQL, status=status.value, channel_message_id=channel_id, id=message.id
            )
        finally:
            self._in_flight.discard(message.id)
        self._sent(state)
        events.append(_with_status(message, MessageStatus.sent))
        if early is not None:
            events.append(_with_status(message, status))


def _with_status(message: Message, status: MessageStatus) -> dict[str, Any]:
    """The message's new status, as told to the inbox."""
    message.status = status
    return message_updated(message)


@dataclass(eq=False)
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_send: int = 0  # the number of the chat's last completed send


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


_SENT_SQL = (
    "UPDATE messages SET status = :status, channel_message_id = :channel_message_id"
    " WHERE id = :id AND status = 'pending'"
)
_CLAIM_SQL = (
    "UPDATE messages SET send_started_at = :now"
    " WHERE id = :id AND status = 'pending' AND send_started_at IS NULL"
)
_UNCLAIM_SQL = "UPDATE messages SET send_started_at = NULL WHERE id = :id AND status = 'pending'"
# One statement: move the message forward and return it, or nothing when it is unknown or
# already as far (a late "delivered" never undoes a "read"; a failed message stays failed).
_RECEIPT_SQL = {
    status: "UPDATE messages SET status = :status WHERE connection_id = :connection_id"
    " AND channel_message_id = :channel_message_id"
    " AND status IN ({}) RETURNING *".format(
        ", ".join(f"'{s.value}'" for s, order in _ORDER.items() if order < _ORDER[status])
    )
    for status in set(_RECEIPT_STATUS.values())
}


async def apply_receipt(receipt: Receipt) -> Message | None:
    """Move the message a receipt names forward (never backward); None if unknown."""
    status = _RECEIPT_STATUS[receipt.status]
    rows = await fetch(
        _RECEIPT_SQL[status],
        status=status.value,
        connection_id=receipt.connection_id,
        channel_message_id=receipt.channel_message_id,
    )
    return Message._init_from_db(**rows[0]) if rows else None
