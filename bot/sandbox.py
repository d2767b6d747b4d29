"""An in-process simulated WhatsApp: the demo's, the tests' and the benchmarks' channel.

Customers "write" through `deliver`; what the business sends is kept per number in
`sent`; each send is acknowledged by a delivered receipt. Tests can make sends fail or
the connection drop."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.channel import (
    ChannelEvents,
    ChannelUnavailable,
    ConnectionState,
    GroupRenamed,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    Receipt,
    SendFailed,
    StateChange,
)

__all__ = ["SandboxChannel"]

_ids = itertools.count(1)
# Message ids are unique per connection in the database, and every process runs its own
# sandbox: without this, two workers' first messages would both be "sbx-out-1".
_PROCESS = secrets.token_hex(4)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SandboxChannel:
    """Implements bot.channel.Channel without any network."""

    def __init__(self, connection_id: int, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.connection_id = connection_id
        self.sent: dict[str, list[OutboundMessage]] = defaultdict(list)
        # What the business showed each customer: ids marked read, and typing on/off.
        self.marked_read: dict[str, list[str]] = defaultdict(list)
        self.typing: dict[str, list[bool]] = defaultdict(list)
        self._clock = clock
        self._events: ChannelEvents | None = None
        self._state = ConnectionState.disconnected
        self._failure: str | None = None
        self._failures_left = 0
        self._receipts: set[asyncio.Task[None]] = set()
        # Each send is acknowledged (delivered) by itself; tests that send receipts by hand
        # turn this off.
        self.acknowledges = True

    @property
    def state(self) -> ConnectionState:
        return self._state

    async def start(self, events: ChannelEvents) -> None:
        self._events = events
        await self._set_state(ConnectionState.connected)

    async def stop(self) -> None:
        for task in list(self._receipts):
            task.cancel()
        await self._set_state(ConnectionState.disconnected)
        self._events = None

    async def deliver(
        self,
        *,
        sender: str,
        text: str,
        push_name: str = "",
        message_id: str | None = None,
        media: MediaRef | None = None,
        quoted_id: str | None = None,
        group: str | None = None,
        group_subject: str | None = None,
    ) -> InboundMessage:
        """A customer writes (in `group`, a participant, with the group's subject if the
        channel knows it): the message goes to the service as a real one would."""
        if self._events is None:
            raise ChannelUnavailable("the sandbox connection is not started")
        message = InboundMessage(
            connection_id=self.connection_id,
            channel_message_id=message_id or f"sbx-in-{_PROCESS}-{next(_ids)}",
            sender=sender,
            push_name=push_name,
            text=text,
            timestamp=self._clock(),
            media=media,
            quoted_id=quoted_id,
            group=group,
            group_subject=group_subject,
        )
        await self._events.on_message(message)
        return message

    async def rename_group(self, group: str, subject: str) -> None:
        """Somebody renames a group the number is in: WhatsApp tells the channel so."""
        if self._events is None:
            raise ChannelUnavailable("the sandbox connection is not started")
        await self._events.on_group_renamed(GroupRenamed(self.connection_id, group, subject))

    async def send(self, message: OutboundMessage) -> str:
        if self._state is not ConnectionState.connected or self._events is None:
            raise ChannelUnavailable("the sandbox connection is disconnected")
        if self._failures_left:
            self._failures_left -= 1
            raise SendFailed(self._failure or "simulated failure")
        channel_id = f"sbx-out-{_PROCESS}-{next(_ids)}"
        self.sent[message.to].append(message)
        if not self.acknowledges:
            return channel_id
        receipt = Receipt(self.connection_id, channel_id, "delivered", self._clock())
        task = asyncio.get_running_loop().create_task(self._events.on_receipt(receipt))
        self._receipts.add(task)
        task.add_done_callback(self._receipts.discard)
        return channel_id

    async def mark_read(self, chat: str, channel_message_ids: Sequence[str]) -> None:
        self.marked_read[chat].extend(channel_message_ids)

    async def set_typing(self, chat: str, typing: bool) -> None:
        self.typing[chat].append(typing)

    async def read(self, channel_message_id: str) -> None:
        """The customer opens the chat: a read receipt for that message."""
        if self._events is not None:
            receipt = Receipt(self.connection_id, channel_message_id, "read", self._clock())
            await self._events.on_receipt(receipt)

    def fail_next(self, count: int = 1, reason: str = "simulated failure") -> None:
        """Make the next `count` sends fail with `reason`."""
        self._failures_left, self._failure = count, reason

    async def disconnect(self) -> None:
        await self._set_state(ConnectionState.disconnected)

    async def reconnect(self) -> None:
        await self._set_state(ConnectionState.connected)

    async def _set_state(self, state: ConnectionState) -> None:
        self._state = state
        if self._events is not None:
            await self._events.on_state(StateChange(self.connection_id, state))
