"""The service's side of the channels: what a channel reports goes to the pipeline, the
receipts to the messages, the states to the connection; and which channel runs where."""

from __future__ import annotations

import logging

from bot.channel import Channel, ConnectionState, InboundMessage, Receipt, StateChange
from bot.sandbox import SandboxChannel
from bot.sessions import SessionManager
from service.clock import Clock
from service.connections.models import Channel as ChannelKind
from service.connections.models import Connection, ConnectionStatus
from service.outbound import OutboundSender
from service.pipeline import Pipeline
from service.realtime.broker import Broker
from service.realtime.events import message_updated

__all__ = ["ChannelHub"]

log = logging.getLogger("atende.channels")


class ChannelHub:
    """Everything about channels one worker needs: sessions, pipeline and sender."""

    def __init__(self, *, broker: Broker, clock: Clock, default_country: str) -> None:
        self.broker = broker
        self._clock = clock
        self.sessions = SessionManager(factory=self._make_channel, events=self)
        self.sender = OutboundSender(channels=self.sessions.channel, broker=broker, clock=clock)
        self.pipeline = Pipeline(
            broker=broker, sender=self.sender, clock=clock, default_country=default_country
        )

    async def _make_channel(self, connection_id: int) -> Channel:
        # Only sandbox connections run here until the neonize channel lands.
        return SandboxChannel(connection_id, clock=self._clock)

    async def start(self) -> None:
        """Start every active sandbox connection, then finish what a crash left half-done."""
        ids = await Connection.filter(is_active=True, channel=ChannelKind.sandbox).values_list(
            "id", flat=True
        )
        for connection_id in ids:
            await self.sessions.start(int(str(connection_id)))
        recovered = await self.pipeline.recover()
        if recovered:
            log.info("processed the unprocessed messages of %s tickets", recovered)

    async def stop(self) -> None:
        await self.sessions.stop_all()

    async def sandbox(self, connection_id: int) -> SandboxChannel:
        """The running sandbox channel of a connection (started on first use)."""
        channel = self.sessions.channel(connection_id)
        if channel is None:
            await self.sessions.start(connection_id)
            channel = self.sessions.channel(connection_id)
        assert isinstance(channel, SandboxChannel)
        return channel

    async def mark_read(
        self, connection_id: int, chat: str, channel_message_ids: list[str]
    ) -> None:
        """Blue ticks for these inbound messages, by whichever worker runs the connection."""
        channel = self.sessions.channel(connection_id)
        if channel is not None and channel_message_ids:
            await channel.mark_read(chat, channel_message_ids)

    async def set_typing(self, connection_id: int, chat: str, typing: bool) -> None:
        """Show the customer that an agent is typing, by whichever worker runs the connection."""
        channel = self.sessions.channel(connection_id)
        if channel is not None:
            await channel.set_typing(chat, typing)

    # bot.channel.ChannelEvents
    async def on_message(self, message: InboundMessage) -> None:
        await self.pipeline.receive(message)

    async def on_receipt(self, receipt: Receipt) -> None:
        message = await self.sender.receipt(receipt)
        if message is not None:
            await self.broker.publish(message_updated(message))

    async def on_state(self, change: StateChange) -> None:
        status = ConnectionStatus(change.state.value)
        await Connection.filter(id=change.connection_id).update(status=status)
        connection = await Connection.get_or_none(id=change.connection_id).only("id", "company_id")
        if connection is not None:
            await self.broker.publish(
                {
                    "type": "connection.updated",
                    "data": {"id": change.connection_id, "status": status, "detail": change.detail},
                    "audience": {"company_id": connection.company_id},  # type: ignore[attr-defined]
                }
            )
        if change.state is ConnectionState.connected:
            await self.sender.retry_pending(change.connection_id)
