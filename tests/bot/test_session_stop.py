"""Stopping a connection whose channel is still starting stops that channel too."""

from __future__ import annotations

import asyncio

from bot.channel import ChannelEvents, ConnectionState
from bot.sandbox import SandboxChannel
from bot.sessions import SessionManager
from tests.helpers.recorder import Recorder


class SlowStart(SandboxChannel):
    """Reports that it connects, then never finishes starting."""

    def __init__(self, connection_id: int, starting: asyncio.Queue[SlowStart]) -> None:
        super().__init__(connection_id)
        self._starting = starting

    async def start(self, events: ChannelEvents) -> None:
        await super().start(events)
        self._starting.put_nowait(self)
        await asyncio.Event().wait()


async def test_stopping_while_starting_stops_the_channel() -> None:
    starting: asyncio.Queue[SlowStart] = asyncio.Queue()

    async def slow(connection_id: int) -> SlowStart:
        return SlowStart(connection_id, starting)

    manager = SessionManager(factory=slow, events=Recorder())
    task = manager.start(3)
    channel = await starting.get()
    assert channel.state is ConnectionState.connected
    assert manager.channel(3) is None  # not started yet
    await manager.stop(3)
    assert task.done()
    assert channel.state is ConnectionState.disconnected
    assert manager.running == []
