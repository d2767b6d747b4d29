"""The sandbox channel behaves like a channel: inbound, sends with receipts, failures, drops."""

from __future__ import annotations

import asyncio

import pytest

from bot.channel import (
    Channel,
    ChannelUnavailable,
    ConnectionState,
    GroupRenamed,
    OutboundMessage,
    SendFailed,
)
from bot.sandbox import SandboxChannel
from tests.helpers.recorder import Recorder


async def test_a_customer_message_reaches_the_service() -> None:
    channel = SandboxChannel(7)
    events = Recorder()
    await channel.start(events)
    sent = await channel.deliver(sender="+5511987654321", text="oi", push_name="Ana")
    assert events.messages == [sent]
    assert (sent.connection_id, sent.sender, sent.text, sent.push_name) == (
        7,
        "+5511987654321",
        "oi",
        "Ana",
    )
    again = await channel.deliver(sender="+5511987654321", text="oi", message_id="fixed")
    assert again.channel_message_id == "fixed"
    assert sent.channel_message_id != again.channel_message_id


async def test_a_group_message_brings_the_subject_and_a_rename_is_reported() -> None:
    channel = SandboxChannel(7)
    events = Recorder()
    await channel.start(events)
    group = "120363025246125244@g.us"
    sent = await channel.deliver(
        sender="+5511987654321", text="oi", group=group, group_subject="Clientes VIP"
    )
    assert (sent.group, sent.group_subject) == (group, "Clientes VIP")
    await channel.rename_group(group, "Clientes Ouro")
    assert events.renames == [GroupRenamed(7, group, "Clientes Ouro")]


async def test_sends_are_recorded_per_number_and_acknowledged() -> None:
    channel: Channel = SandboxChannel(1)
    events = Recorder()
    await channel.start(events)
    out = OutboundMessage(connection_id=1, to="+5511999990000", text="Olá", message_id=42)
    channel_id = await channel.send(out)
    await asyncio.sleep(0)  # the receipt is reported from its own task, as a network's would be
    assert isinstance(channel, SandboxChannel)
    assert channel.sent["+5511999990000"] == [out]
    assert [(r.channel_message_id, r.status) for r in events.receipts] == [
        (channel_id, "delivered")
    ]
    await channel.read(channel_id)
    assert events.receipts[-1].status == "read"


async def test_failures_and_disconnections() -> None:
    channel = SandboxChannel(1)
    events = Recorder()
    await channel.start(events)
    out = OutboundMessage(connection_id=1, to="+1", text="x")
    channel.fail_next(1, "number not on WhatsApp")
    with pytest.raises(SendFailed, match="not on WhatsApp"):
        await channel.send(out)
    await channel.send(out)  # only the next one failed
    await channel.disconnect()
    with pytest.raises(ChannelUnavailable):
        await channel.send(out)
    await channel.reconnect()
    await channel.send(out)
    assert [s.state for s in events.states] == [
        ConnectionState.connected,
        ConnectionState.disconnected,
        ConnectionState.connected,
    ]
    await channel.stop()
    with pytest.raises(ChannelUnavailable):
        await channel.deliver(sender="+1", text="late")
