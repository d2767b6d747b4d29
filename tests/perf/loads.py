"""The two loads of the inbound benchmark, for any driver of "customer c writes message i".

Closed loop: every conversation writes its messages back to back, the next as soon as the
previous one was handled; the figure is the saturation throughput. Open loop: messages
arrive on a fixed schedule whatever the system does; a message's latency runs from when it
was due (not when the load generator got round to it), so a late generator cannot hide a
slow system."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["ClosedLoop", "Handle", "OpenLoop", "closed_loop", "open_loop"]

# Writes message `index` of conversation `conversation`; returns when (time.perf_counter())
# it was done: the reply sent, or the message processed when there is no reply.
Handle = Callable[[int, int], Awaitable[float]]


@dataclass(frozen=True)
class ClosedLoop:
    conversations: int
    messages: int
    seconds: float
    cpu_seconds: float  # this process's CPU time meanwhile (the app's, or the floor's client)
    errors: int
    first_error: str | None

    @property
    def throughput(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_ms_per_message(self) -> float:
        """Less sensitive to a busy machine than the throughput: what a message costs here."""
        return 1000 * self.cpu_seconds / self.messages


@dataclass(frozen=True)
class OpenLoop:
    rate: float
    conversations: int
    seconds: float  # from the first message due to the last one done
    latencies: list[float] = field(repr=False)  # seconds, of the messages handled
    errors: int
    first_error: str | None
    max_in_flight: int

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies) / self.seconds


async def closed_loop(handle: Handle, *, conversations: int, messages_each: int) -> ClosedLoop:
    """`conversations` customers each writing `messages_each` messages back to back."""
    errors: list[str] = []

    async def customer(conversation: int) -> None:
        for index in range(messages_each):
            try:
                await handle(conversation, index)
            except Exception as exc:
                errors.append(repr(exc))

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(customer(c) for c in range(conversations)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    first = errors[0] if errors else None
    messages = conversations * messages_each
    return ClosedLoop(conversations, messages, seconds, cpu, len(errors), first)


async def open_loop(
    handle: Handle, *, rate: float, conversations: int, duration: float
) -> OpenLoop:
    """`rate` messages a second for `duration` seconds, round-robin over `conversations`."""
    total = max(1, round(rate * duration))
    latencies: list[float] = []
    errors: list[str] = []
    in_flight = max_in_flight = 0

    async def one(conversation: int, index: int, due: float) -> None:
        nonlocal in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        try:
            done = await handle(conversation, index)
        except Exception as exc:
            errors.append(repr(exc))
        else:
            latencies.append(done - due)
        finally:
            in_flight -= 1

    started = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for k in range(total):
        due = started + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conversation, index = k % conversations, k // conversations
        tasks.append(asyncio.create_task(one(conversation, index, due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    first = errors[0] if errors else None
    return OpenLoop(rate, conversations, seconds, latencies, len(errors), first, max_in_flight)
