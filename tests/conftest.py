"""One real server per test session, on Postgres + Redis when DATABASE_URL/REDIS_URL are set,
on the embedded defaults otherwise. Tests isolate themselves by creating their own companies."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sanic import Sanic
from sanic_ext import openapi

from service import events as catalogue
from service.app import create_app
from service.db import migrate_db
from service.realtime.broker import InProcessBroker, RedisBroker
from service.server import GuardedProtocol
from service.settings import Settings
from tests.factories import SYNTHETIC, FakeClock, PublishedEvents, Tenant, make_tenant

TEST_SECRET = "test-secret-key-of-a-reasonable-length"


def _import_neonize_without_leaks() -> None:
    """Importing neonize leaves `os.popen("uname -a")` children unwaited: subprocess keeps
    them until some later Popen reaps them, and their unclosed pipes then fail, as warnings,
    whichever test starts a process. Import it now and close them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        import neonize  # noqa: F401

        for leftover in [o for o in gc.get_objects() if isinstance(o, subprocess.Popen)]:
            if leftover.args == "uname -a":
                leftover.communicate()


_import_neonize_without_leaks()


def _test_redis_url(url: str) -> str:
    """The same server, database 15 (or ATENDE_TEST_REDIS_DB, so that test sessions can run
    side by side): the suite flushes it and must not touch real data."""
    parts = urlsplit(url)
    database = int(os.environ.get("ATENDE_TEST_REDIS_DB", "15"))
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgres+redis" if os.environ.get("DATABASE_URL") else "embedded"


@pytest_asyncio.fixture(scope="session")
async def test_settings(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    data_dir: Path = tmp_path_factory.mktemp("data")
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    test_db = None
    if database_url:
        parts = urlsplit(database_url.replace("postgresql://", "postgres://", 1))
        test_db = f"atende_test_{uuid.uuid4().hex[:8]}"
        admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'CREATE DATABASE "{test_db}"')
        await conn.close()
        database_url = urlunsplit(parts._replace(path=f"/{test_db}"))
    if redis_url:
        redis_url = _test_redis_url(redis_url)
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        login_max_failures=5,
        # Every test logs in from 127.0.0.1: the per-IP limit has tests of its own.
        login_max_failures_per_ip=100_000,
        timers_interval_seconds=0,  # tests run the timers themselves
        log_level="WARNING",
    )
    await migrate_db(settings)
    yield settings
    if test_db:
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{test_db}" WITH (FORCE)')
        await conn.close()


# The events that broke the catalogue while the suite ran, and the lists of the tests
# that asked for `published_events`.
_OFF_CATALOGUE: list[str] = []
_LISTENERS: list[PublishedEvents] = []
# Events the tests themselves publish: to mark a point in a stream (their type), or to see
# where an event of some type goes (their audience says so; it never leaves the server).
_TEST_EVENT_PREFIX = "test."


def _checked(publish_many: Any) -> Any:
    async def checking(self: Any, events: Any) -> None:
        for event in events:
            if "audience" not in event:
                continue  # between workers (commands), never sent to a socket
            synthetic = event["audience"].get(SYNTHETIC)
            if not synthetic and not str(event.get("type")).startswith(_TEST_EVENT_PREFIX):
                try:
                    catalogue.validate(event)
                except ValueError as error:  # pydantic's ValidationError is one
                    _OFF_CATALOGUE.append(f"{event.get('type')}: {error}")
            for listener in _LISTENERS:
                listener.append(event)
        await publish_many(self, events)

    return checking


@pytest.fixture(scope="session", autouse=True)
def _events_hold_to_the_catalogue() -> Iterator[None]:
    """Every event published while the suite runs is of a declared type, its payload valid
    for that type (service/events.py): the brokers check each one as it goes out."""
    patches = [(cls, cls.publish_many) for cls in (InProcessBroker, RedisBroker)]
    for cls, original in patches:
        cls.publish_many = _checked(original)  # type: ignore[method-assign]
    yield
    for cls, original in patches:
        cls.publish_many = original  # type: ignore[method-assign]
    assert _OFF_CATALOGUE == [], "events off the catalogue:\n" + "\n".join(_OFF_CATALOGUE)


@pytest.fixture
def published_events() -> Iterator[PublishedEvents]:
    """The events published from now until the test ends (any broker of this process)."""
    seen = PublishedEvents()
    _LISTENERS.append(seen)
    yield seen
    _LISTENERS.remove(seen)


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _reset_clock(clock: FakeClock) -> Iterator[None]:
    yield
    clock.reset()


@pytest_asyncio.fixture(scope="session")
async def app(test_settings: Settings, clock: FakeClock) -> AsyncIterator[Sanic[Any, Any]]:
    Sanic.test_mode = True
    application = create_app(test_settings, clock=clock, name=f"atende_test_{os.getpid()}")

    @openapi.definition(exclude=True)  # not part of the API's document
    async def boom(request: Any) -> None:
        raise RuntimeError("a bug, on purpose")

    # A route with a bug, to see what a 500 looks like (only in the test app).
    application.add_route(boom, "/__test__/boom")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = await application.create_server(
        sock=sock,
        return_asyncio_server=True,
        access_log=False,
        protocol=GuardedProtocol,
        asyncio_server_kwargs={"start_serving": False},
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.start_serving()
    await server.after_start()
    application.ctx.test_base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield application
    await server.before_stop()
    await server.close()
    await server.after_stop()
    sock.close()


@pytest_asyncio.fixture(scope="session")
async def client(app: Sanic[Any, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app.ctx.test_base_url, timeout=30) as http:
        yield http


@pytest_asyncio.fixture
async def tenant(client: httpx.AsyncClient) -> Tenant:
    """A fresh company and its logged-in admin."""
    return await make_tenant(client)


@pytest_asyncio.fixture
async def other_tenant(client: httpx.AsyncClient) -> Tenant:
    """A second company, to prove that one company never reaches another's data."""
    return await make_tenant(client)
