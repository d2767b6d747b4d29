"""The session manager starts channels, retries failures with backoff, and stops them."""

from __future__ import annotations

import random

from bot.channel import ChannelEvents, ConnectionState, StateChange
from bot.sandbox import SandboxChannel
from bot.sessions import Backoff, SessionManager
from tests.helpers.recorder import Recorder


class FlakyChannel(SandboxChannel):
    """Fails to start `failures` times (counted across instances), then starts."""

    failures = 0

    async def start(self, events: ChannelEvents) -> None:
        if FlakyChannel.failures:
            FlakyChannel.failures -= 1
            raise ConnectionError("network unreachable")
        await super().start(events)


async def flaky(connection_id: int) -> SandboxChannel:
    return FlakyChannel(connection_id)


async def sandbox(connection_id: int) -> SandboxChannel:
    return SandboxChannel(connection_id)


async def test_starts_retries_with_growing_jittered_delays_and_stops() -> None:
    FlakyChannel.failures = 3
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    events = Recorder()
    manager = SessionManager(
        factory=flaky,
        events=events,
        backoff=Backoff(base=1, cap=3),
        sleep=fake_sleep,
        rng=random.Random(4),
    )
    await manager.start(5)
    channel = manager.channel(5)
    assert channel is not None
    assert channel.state is ConnectionState.connected
    assert manager.running == [5]
    assert len(delays) == 3
    assert 0 <= delays[0] <= 1
    assert 0 <= delays[1] <= 2
    assert 0 <= delays[2] <= 3  # capped
    failures = [s for s in events.states if s.state is ConnectionState.disconnected]
    assert [s.detail for s in failures] == ["network unreachable"] * 3
    await manager.stop_all()
    assert manager.running == []
    assert channel.state is ConnectionState.disconnected


async def test_starting_twice_runs_one_channel() -> None:
    manager = SessionManager(factory=sandbox, events=Recorder())
    first, second = manager.start(1), manager.start(1)
    assert first is second
    await first
    assert manager.running == [1]
    await manager.stop(1)
    assert manager.channel(1) is None


async def test_on_running_comes_once_the_channel_can_be_found() -> None:
    """A sandbox reports "connected" from inside start(), before it is registered: what waits
    for the channel is told after registration, when `channel()` finds it."""
    found_when_connected: list[bool] = []
    found_when_running: list[bool] = []
    manager: SessionManager

    class Watching(Recorder):
        async def on_state(self, change: StateChange) -> None:
            await super().on_state(change)
            found_when_connected.append(manager.channel(change.connection_id) is not None)

    async def running(connection_id: int) -> None:
        found_when_running.append(manager.channel(connection_id) is not None)

    manager = SessionManager(factory=sandbox, events=Watching(), on_running=running)
    await manager.start(8)
    assert found_when_connected == [False]  # why "connected" alone cannot trigger the retry
    assert found_when_running == [True]
    await manager.stop_all()
