"""`python -m tests.perf [--smoke] [--output bench-results.json] …`: every figure of issue 6
on Postgres + Redis, printed as a table and written as JSON.

DATABASE_URL names the Postgres server (a database is created for the run and dropped after
it); REDIS_URL the Redis server (database 13 is used, or --redis-db). Both default to the
local ones."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from service.channels import ChannelHub
from service.db import migrate_db
from service.settings import Settings
from tests.perf.drivers import FloorDriver, HttpDriver, PipelineDriver
from tests.perf.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    asyncpg_dsn,
    bench_database,
    bench_redis_url,
    bench_settings,
    running_app,
    served,
    served_redis_url,
    set_up_company,
)
from tests.perf.fanout import FanoutSizes, measure_fanout
from tests.perf.inbound import InboundSizes, measure_inbound
from tests.perf.inbox import InboxSizes, measure_inbox
from tests.perf.results import Results
from tests.perf.statements import StatementLog

__all__ = ["BenchConfig", "main", "run"]

PARTS = ("inbound", "inbox", "fanout")
T = TypeVar("T", InboundSizes, InboxSizes, FanoutSizes)


@dataclass(frozen=True)
class BenchConfig:
    database_url: str
    redis_url: str
    pool_size: int
    inbound: InboundSizes
    inbox: InboxSizes
    fanout: FanoutSizes = dataclasses.field(default_factory=FanoutSizes)
    parts: tuple[str, ...] = PARTS
    uvloop: bool = True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.perf", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (the test suite's)")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--only", choices=PARTS, action="append", help="repeatable")
    parser.add_argument("--pool-size", type=int, default=5, help="Tortoise's default: 5")
    parser.add_argument("--closed", type=int, nargs="+", help="conversations, e.g. 50 200")
    parser.add_argument("--messages-each", type=int)
    parser.add_argument("--samples", type=int, help="closed-loop runs of each size (median)")
    parser.add_argument(
        "--no-http", action="store_true", help="inbound: no closed loop through HTTP"
    )
    parser.add_argument(
        "--closed-only", action="store_true", help="inbound: no open loop (quick comparisons)"
    )
    parser.add_argument("--open-rate", type=float, help="messages per second")
    parser.add_argument("--open-conversations", type=int)
    parser.add_argument("--open-duration", type=float, help="seconds")
    parser.add_argument("--tickets", type=int)
    parser.add_argument("--messages", type=int, help="messages in the inbox company")
    parser.add_argument("--requests", type=int, help="timed requests per inbox figure")
    parser.add_argument("--sockets", type=int, help="fanout: websockets open at once")
    parser.add_argument("--events", type=int, help="fanout: timed events")
    parser.add_argument("--workers", type=int, nargs="+", help="fanout: servers' workers, e.g. 1 2")
    parser.add_argument(
        "--redis-db", type=int, help="the Redis database to use (default 13); runs may overlap"
    )
    parser.add_argument("--asyncio", action="store_true", help="asyncio's loop, not uvloop")
    return parser


_SMOKE_INBOUND = InboundSizes(
    closed_conversations=(3, 6),
    messages_each=4,
    open_rate=30.0,
    open_conversations=6,
    open_duration=1.0,
    warmup_conversations=2,
    samples=2,
)
_SMOKE_INBOX = InboxSizes(tickets=400, messages=4_000, requests=10, warmup_requests=2)
# One server (2 workers: the path across workers) keeps the suite's added time small.
_SMOKE_FANOUT = FanoutSizes(
    sockets=20, users=1, events=10, warmup_events=2, pause=0.0, workers=(2,)
)


def _overridden(base: T, **changes: Any) -> T:
    """`base` with the options given on the command line (None: not given)."""
    return dataclasses.replace(base, **{k: v for k, v in changes.items() if v is not None})


def config_from(argv: Sequence[str] | None) -> tuple[BenchConfig, Path]:
    args = _parser().parse_args(argv)
    inbound = _SMOKE_INBOUND if args.smoke else InboundSizes()
    inbox = _SMOKE_INBOX if args.smoke else InboxSizes()
    inbound = _overridden(
        inbound,
        closed_conversations=tuple(args.closed) if args.closed else None,
        messages_each=args.messages_each,
        open_rate=args.open_rate,
        open_conversations=args.open_conversations,
        open_duration=args.open_duration,
        open_loops=False if args.closed_only else None,
        samples=args.samples,
        http_loop=False if args.no_http else None,
    )
    inbox = _overridden(inbox, tickets=args.tickets, messages=args.messages, requests=args.requests)
    fanout = _overridden(
        _SMOKE_FANOUT if args.smoke else FanoutSizes(),
        sockets=args.sockets,
        events=args.events,
        workers=tuple(args.workers) if args.workers else None,
    )
    redis_url = bench_redis_url(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    if args.redis_db is not None:
        redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{args.redis_db}"))
    config = BenchConfig(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=redis_url,
        pool_size=args.pool_size,
        inbound=inbound,
        inbox=inbox,
        fanout=fanout,
        parts=tuple(args.only) if args.only else PARTS,
        uvloop=not args.asyncio,
    )
    return config, args.output


def _git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, check=True, text=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    return None


def _meta(config: BenchConfig) -> dict[str, Any]:
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "event_loop": "uvloop" if config.uvloop else "asyncio",
        "pool_size": config.pool_size,
        "inbound": dataclasses.asdict(config.inbound),
        "inbox": dataclasses.asdict(config.inbox),
        "fanout": dataclasses.asdict(config.fanout),
    }


async def run(config: BenchConfig) -> Results:
    """Every figure asked for, measured in one run on a database made for it."""
    results = Results(meta=_meta(config))
    started = time.perf_counter()
    log = StatementLog()
    log.install()
    try:
        async with bench_database(config.database_url, pool_size=config.pool_size) as url:
            await _measure(config, url, results, log)
    finally:
        log.uninstall()
    results.meta["seconds"] = round(time.perf_counter() - started, 1)
    results.meta["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


async def _measure(
    config: BenchConfig, database_url: str, results: Results, log: StatementLog
) -> None:
    with tempfile.TemporaryDirectory(prefix="atende-bench-") as data_dir:
        settings = bench_settings(
            database_url=database_url, redis_url=config.redis_url, data_dir=Path(data_dir)
        )
        await migrate_db(settings)
        dsn = asyncpg_dsn(database_url)
        async with (
            running_app(settings) as running,
            httpx.AsyncClient(base_url=running.base_url, timeout=60) as http,
            asyncpg.create_pool(dsn, min_size=1, max_size=config.pool_size) as pool,
        ):
            if "inbound" in config.parts:
                await _inbound(config, settings, http, running.hub, pool, results, log)
            if "inbox" in config.parts:
                setup = await set_up_company(http, name="bench-inbox")
                log_file = Path(data_dir) / "server.log"
                async with (
                    served(settings, log=log_file) as server_url,
                    httpx.AsyncClient(base_url=server_url, timeout=60) as server,
                ):
                    await measure_inbox(
                        results=results,
                        http=server,
                        recording=http,
                        pool=pool,
                        log=log,
                        setup=setup,
                        sizes=config.inbox,
                    )
            if "fanout" in config.parts:
                await measure_fanout(
                    results=results,
                    http=http,
                    settings=settings,
                    sizes=config.fanout,
                    log_dir=Path(data_dir),
                )


async def _inbound(
    config: BenchConfig,
    settings: Settings,
    http: httpx.AsyncClient,
    hub: ChannelHub,
    pool: asyncpg.Pool,
    results: Results,
    log: StatementLog,
) -> None:
    app_company = await set_up_company(http, name="bench-inbound")
    floor_company = await set_up_company(http, name="bench-floor")
    http_company = await set_up_company(http, name="bench-http")
    async with contextlib.AsyncExitStack() as stack:
        through = None
        if config.inbound.http_loop:
            server_url = await stack.enter_async_context(
                # Every simulated customer comes from this one address.
                served(
                    settings,
                    log=settings.data_dir / "server-inbound.log",
                    env={
                        "MAX_CONNECTIONS_PER_IP": "100000",
                        "REDIS_URL": served_redis_url(settings.redis_url or DEFAULT_REDIS_URL),
                    },
                )
            )
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=server_url, timeout=60, limits=limits)
            )
            through = HttpDriver(client, http_company.connection_id, http_company.admin_headers)
        await measure_inbound(
            results=results,
            log=log,
            pipeline=await PipelineDriver.start(hub, app_company.connection_id),
            floor=FloorDriver(pool, floor_company),
            sizes=config.inbound,
            http=through,
        )


def main(argv: Sequence[str] | None = None) -> int:
    config, output = config_from(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(
        f"bench: Postgres {asyncpg_dsn(config.database_url, database='')} (a database of its "
        f"own), Redis {config.redis_url}, parts {', '.join(config.parts)}",
        file=sys.stderr,
    )
    loop_factory = None
    if config.uvloop:
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        results = runner.run(run(config))
    print(results.table())
    results.write(output)
    print(f"\nwritten to {output}", file=sys.stderr)
    return 0
