"""Realtime fanout: how long an event takes from its publication to every agent's socket.

What is timed: `sockets` websockets of agents of one company (`users` agents, several tabs
each) on a real `atende serve` on Postgres + Redis, with 1 worker and with 2 workers (a
server and a company each). The benchmark publishes events through the broker the app uses
(RedisBroker: XADD to the log and PUBLISH, one Lua call), each to the whole company, one at
a time: the next once the previous reached every socket. An event's latency at a socket is
from just before the publish call to the moment this process read the frame from that
socket, on one clock (the clients and the publisher are this process). p50 and p99 are over
every (event, socket); the detail's `last_socket` is per event, until its last socket had it.

The floor: a bare process that subscribes to a Redis pub/sub channel and writes each message
to all of its websockets with `websockets.broadcast` (no authentication, no audience, no
log, no per-socket queue), read by the same kind of clients. It pays what cannot be avoided:
the Redis hop, one websocket frame per socket, and this process reading 500 sockets (most
of it: the frames of an event are read one after the other, so the later sockets wait for
the earlier ones, on both sides); the ratio is what the app adds to that. The floor and the
servers take turns event by event, so that all see the same load of the machine.

Sizes: the issue's are 500 sockets; `--smoke` opens a few so the test suite runs it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from service.companies.models import Company
from service.realtime.broker import RedisBroker
from service.settings import Settings
from service.users.models import Role, User
from tests.perf.environment import CompanySetup, set_up_company
from tests.perf.results import Figure, Results, Target
from tests.perf.stats import Summary, summarize
from tests.processes import free_port, settings_env

__all__ = ["FanoutSizes", "measure_fanout"]

# Runs may overlap on one Redis server (and their companies' ids collide): each run's
# events have a type of their own, its clients time only those, and its floor has its own
# channel (pub/sub channels are the same in every Redis database).
_RUN = uuid.uuid4().hex[:8]
EVENT = f"bench.fanout.{_RUN}"
_FLOOR_CHANNEL = f"atende:bench:fanout-floor:{_RUN}"
_PASSWORD = "fanout bench password"
_CONNECT_BATCH = 50
_TARGET = Target("<", 150.0)


@dataclass(frozen=True)
class FanoutSizes:
    sockets: int = 500
    users: int = 10  # the sockets are their tabs, spread evenly
    events: int = 200  # timed, after the warm-up ones
    warmup_events: int = 10
    pause: float = 0.02  # seconds between an event's last arrival and the next publish
    workers: tuple[int, ...] = (1, 2)


@dataclass
class _Run:
    """One measured fanout: the latencies, and what went missing."""

    latency: Summary  # every (event, socket)
    complete: Summary  # every event, until its last socket had it
    expected: int
    received: int

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.latency.as_dict(),
            "last_socket": self.complete.as_dict(),
            "frames_expected": self.expected,
            "frames_received": self.received,
        }


class _Clients:
    """The sockets of one run; each read loop notes when each bench event reached it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.arrivals: dict[int, list[float]] = {}
        self._complete: dict[int, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stack = contextlib.AsyncExitStack()

    async def open(self, urls: Sequence[str]) -> None:
        for start in range(0, len(urls), _CONNECT_BATCH):
            batch = urls[start : start + _CONNECT_BATCH]
            sockets = await asyncio.gather(*(self._open_one(url) for url in batch))
            for ws in sockets:
                self._tasks.append(asyncio.get_running_loop().create_task(self._read(ws)))

    async def _open_one(self, url: str) -> ClientConnection:
        ws = await self._stack.enter_async_context(
            connect(url, compression=None, max_queue=None, open_timeout=60)
        )
        # The server counts a socket in (authenticated, listening) before its hello, not
        # when the handshake ends: an event published before the hello may miss it.
        async with asyncio.timeout(60):
            hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        return ws

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for frame in ws:
                if EVENT not in frame:  # hello, presence: not timed (cheap test first)
                    continue
                now = time.perf_counter()
                seq = json.loads(frame)["data"]["seq"]
                arrived = self.arrivals.setdefault(seq, [])
                arrived.append(now)
                if len(arrived) == self.count:
                    self._complete.setdefault(seq, asyncio.Event()).set()

    async def wait_for(self, seq: int, *, within: float) -> bool:
        event = self._complete.setdefault(seq, asyncio.Event())
        try:
            async with asyncio.timeout(within):
                await event.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stack.aclose()


@dataclass
class _Side:
    """One thing measured (the floor, or a server): its sockets and how to publish to them."""

    clients: _Clients
    publish: Callable[[int], Awaitable[None]]
    published: dict[int, float] = field(default_factory=dict)

    async def event(self, seq: int, pause: float) -> None:
        """Publish one event and wait until every socket has it (or 10 s went by)."""
        self.published[seq] = time.perf_counter()
        await self.publish(seq)
        await self.clients.wait_for(seq, within=10)
        await asyncio.sleep(pause)

    def run(self, sizes: FanoutSizes) -> _Run:
        timed = range(sizes.warmup_events, sizes.warmup_events + sizes.events)
        arrivals = self.clients.arrivals
        samples = [t - self.published[seq] for seq in timed for t in arrivals.get(seq, [])]
        last = [max(arrivals[seq]) - self.published[seq] for seq in timed if arrivals.get(seq)]
        if not samples:
            raise RuntimeError("no event reached any socket")
        return _Run(
            latency=summarize(samples),
            complete=summarize(last),
            expected=sizes.events * self.clients.count,
            received=len(samples),
        )


async def _interleaved(sides: Sequence[_Side], sizes: FanoutSizes) -> list[_Run]:
    """Each side's events in turn, one at a time: the floor and the servers are measured
    under the same load of this (shared, busy) machine, not one after the other."""
    for seq in range(sizes.warmup_events + sizes.events):
        for side in sides:
            await side.event(seq, sizes.pause)
    return [side.run(sizes) for side in sides]


# The app -----------------------------------------------------------------------------------


async def _agent_tokens(http: httpx.AsyncClient, setup: CompanySetup, users: int) -> list[str]:
    """The tokens of `users` agents of the company: its agent's, and more made for this."""
    tokens = [setup.agent_headers["Authorization"].removeprefix("Bearer ")]
    for n in range(1, users):
        email = f"fanout-{n}-{uuid.uuid4().hex[:6]}@bench.example.com"
        body = {
            "name": f"Fanout {n}",
            "email": email,
            "password": _PASSWORD,
            "role": "agent",
            "queue_ids": [setup.queue_ids[0]],
        }
        created = await http.post("/api/users", json=body, headers=setup.admin_headers)
        created.raise_for_status()
        login = await http.post("/api/auth/login", json={"email": email, "password": _PASSWORD})
        login.raise_for_status()
        tokens.append(str(login.json()["access_token"]))
    return tokens


async def _ensure_super_admin() -> None:
    """`atende serve` makes the installation's first super-admin when there is none: two
    servers starting together would both try. There is one before they start."""
    if not await User.filter(is_super=True).exists():
        company = await Company.filter().order_by("id").first()
        assert company is not None
        await User.create(
            company=company,
            name="Bench Super",
            email=f"super-{uuid.uuid4().hex[:8]}@bench.example.com",
            password_hash="!",  # no password logs in (and none is hashed: that is slow)
            role=Role.admin,
            is_super=True,
        )


@contextlib.asynccontextmanager
async def _served(settings: Settings, *, workers: int, log: Path) -> AsyncIterator[str]:
    """`atende serve --workers N` in a session of its own; yields its base URL."""
    port = free_port()
    env = {
        **settings_env(settings),
        "HOST": "127.0.0.1",
        "TIMERS_INTERVAL_SECONDS": "0",
        # Every simulated browser comes from this one address: the per-address caps that
        # protect a real server would refuse all but the first fifty.
        "MAX_WEBSOCKETS_PER_IP": "100000",
        "MAX_CONNECTIONS_PER_IP": "100000",
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _until_up(process, lambda: _healthy(base_url), log)
        yield base_url
    finally:
        await _stop(process)


async def _healthy(base_url: str) -> bool:
    async with httpx.AsyncClient(timeout=1) as http:
        return (await http.get(f"{base_url}/health")).status_code == 200


async def _until_up(process: asyncio.subprocess.Process, check: Any, log: Path) -> None:
    deadline = time.monotonic() + 60
    while process.returncode is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError, httpx.TransportError):
            if await check():
                return
        await asyncio.sleep(0.1)
    output = await asyncio.to_thread(log.read_text)
    raise RuntimeError(f"the server did not start (status {process.returncode}): {output[-2000:]}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()
    # Sanic's workers may outlive their manager: end the session the server started.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


async def _app_side(
    stack: contextlib.AsyncExitStack,
    base_url: str,
    tokens: list[str],
    company_id: int,
    redis_url: str,
    sizes: FanoutSizes,
) -> _Side:
    """Sockets on a server, and events published as the app publishes them."""
    ws_base = base_url.replace("http://", "ws://")
    urls = [f"{ws_base}/ws?token={tokens[n % len(tokens)]}" for n in range(sizes.sockets)]
    clients = _Clients(sizes.sockets)
    stack.push_async_callback(clients.close)
    await clients.open(urls)
    broker = RedisBroker(Redis.from_url(redis_url, decode_responses=True))
    stack.push_async_callback(broker.close)
    audience = {"company_id": company_id}

    async def publish(seq: int) -> None:
        await broker.publish({"type": EVENT, "data": {"seq": seq}, "audience": audience})

    return _Side(clients, publish)


# The floor ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _floor_server(redis_url: str, *, log: Path) -> AsyncIterator[str]:
    """This module's `floor` command in a child process; yields its ws:// URL."""
    port = free_port()
    command = [sys.executable, "-m", "tests.perf.fanout", "floor", "--port", str(port)]
    command += ["--redis-url", redis_url, "--channel", _FLOOR_CHANNEL]
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"ws://127.0.0.1:{port}/"

    async def answers() -> bool:
        async with connect(url, open_timeout=1) as ws:
            await ws.recv()
            return True

    try:
        await _until_up(process, answers, log)
        yield url
    finally:
        await _stop(process)


async def _floor_side(
    stack: contextlib.AsyncExitStack, url: str, redis_url: str, sizes: FanoutSizes
) -> _Side:
    clients = _Clients(sizes.sockets)
    stack.push_async_callback(clients.close)
    await clients.open([url] * sizes.sockets)
    redis = Redis.from_url(redis_url)
    stack.push_async_callback(redis.aclose)

    async def publish(seq: int) -> None:
        frame = json.dumps({"type": EVENT, "id": None, "data": {"seq": seq}})
        await redis.publish(_FLOOR_CHANNEL, frame)

    return _Side(clients, publish)


async def _serve_floor(port: int, redis_url: str, channel: str) -> None:
    """The floor: Redis pub/sub in, `websockets.broadcast` out, nothing else."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        await ws.send('{"type":"hello","id":null,"data":null}')
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    async with serve(handler, "127.0.0.1", port, compression=None):
        async for message in pubsub.listen():
            if message.get("type") == "message":
                broadcast(clients, message["data"].decode())


# The figures -------------------------------------------------------------------------------


async def measure_fanout(
    *,
    results: Results,
    http: httpx.AsyncClient,
    settings: Settings,
    sizes: FanoutSizes,
    log_dir: Path,
) -> None:
    """p50 and p99 of the fanout to `sizes.sockets` sockets, for each number of workers."""
    assert settings.redis_url, "the fanout is measured across workers: Redis"
    redis_url = settings.redis_url
    # A company per server: both hear every event, each has sockets of one company only.
    companies = [await set_up_company(http, name="bench-fanout") for _ in sizes.workers]
    tokens = [await _agent_tokens(http, setup, sizes.users) for setup in companies]
    await _ensure_super_admin()
    async with contextlib.AsyncExitStack() as stack:
        # Started together (their start is most of the part's time).
        floor_url, *server_urls = await asyncio.gather(
            stack.enter_async_context(_floor_server(redis_url, log=log_dir / "fanout-floor.log")),
            *(
                stack.enter_async_context(
                    _served(settings, workers=workers, log=log_dir / f"fanout-w{workers}.log")
                )
                for workers in sizes.workers
            ),
        )
        sides = [await _floor_side(stack, floor_url, redis_url, sizes)]
        for base_url, setup, its_tokens in zip(server_urls, companies, tokens, strict=True):
            sides.append(
                await _app_side(stack, base_url, its_tokens, setup.company_id, redis_url, sizes)
            )
        floor, *runs = await _interleaved(sides, sizes)
    for workers, run in zip(sizes.workers, runs, strict=True):
        detail = {
            "sockets": sizes.sockets,
            "users": sizes.users,
            "events": sizes.events,
            "workers": workers,
            "app": run.as_dict(),
            "floor": floor.as_dict(),
        }
        lost = run.expected - run.received
        note = f"{lost} of {run.expected} frames never arrived" if lost else ""
        for name in ("p50", "p99"):
            results.add(
                Figure(
                    key=f"realtime.fanout.w{workers}.{name}",
                    label=f"realtime fanout {name}, {sizes.sockets} sockets, {workers} worker"
                    + ("s" if workers > 1 else ""),
                    unit="ms",
                    value=getattr(run.latency, name),
                    floor=getattr(floor.latency, name),
                    target=_TARGET if name == "p99" else None,
                    note=note if name == "p99" else "",
                    detail=detail if name == "p99" else {},
                )
            )


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m tests.perf.fanout floor --port P --redis-url URL --channel C`: the floor's
    server."""
    parser = argparse.ArgumentParser(prog="python -m tests.perf.fanout")
    parser.add_argument("command", choices=["floor"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel", required=True)
    args = parser.parse_args(argv)
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve_floor(args.port, args.redis_url, args.channel))


if __name__ == "__main__":
    main()
