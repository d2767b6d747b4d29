"""The benchmark's world: a Postgres database made for the run and dropped after it, the
real application served in-process (as tests/conftest.py does), and companies set up
through the API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
from sanic import Request, Sanic

from service.app import create_app
from service.auth.passwords import hash_password
from service.channels import ChannelHub
from service.companies.models import Company
from service.settings import Settings
from service.users.models import Role, User
from tests.perf.statements import LABEL
from tests.processes import free_port, settings_env

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_REDIS_URL",
    "LABEL_HEADER",
    "CompanySetup",
    "RunningApp",
    "asyncpg_dsn",
    "bench_database",
    "bench_redis_url",
    "bench_settings",
    "running_app",
    "served",
    "served_redis_url",
    "set_up_company",
]

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# Requests carrying this header have their SQL recorded under its value (tests.perf.statements).
LABEL_HEADER = "x-bench-label"
_BENCH_REDIS_DB = 13
# The HTTP loop's server: a Redis database of its own, so that its hub does not spend CPU
# on the in-process pipeline's events while that pipeline is being measured.
_SERVED_REDIS_DB = 14
_PASSWORD = "bench password, not a secret"


def asyncpg_dsn(url: str, *, database: str | None = None) -> str:
    """The URL as asyncpg takes it: postgresql://, no Tortoise parameters."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit(parts._replace(path=path, query=""))


def served_redis_url(url: str) -> str:
    """Database 14 of the same Redis server: the HTTP loop server's (see _SERVED_REDIS_DB)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{_SERVED_REDIS_DB}"))


def bench_redis_url(url: str) -> str:
    """The same Redis server, database 13: the benchmark's own (never flushed: runs may overlap)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{_BENCH_REDIS_DB}"))


@contextlib.asynccontextmanager
async def bench_database(server_url: str, *, pool_size: int) -> AsyncIterator[str]:
    """A new database on the server of `server_url` for this run, dropped afterwards; yields
    its URL as the app takes it (a Tortoise pool of `pool_size` connections)."""
    name = f"atende_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url, database="postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(server_url.replace("postgresql://", "postgres://", 1))
    query = urlencode({"minsize": 1, "maxsize": pool_size})
    try:
        yield urlunsplit(parts._replace(path=f"/{name}", query=query))
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(server_url, database="postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@dataclass(frozen=True)
class RunningApp:
    app: Sanic[Any, Any]
    base_url: str

    @property
    def hub(self) -> ChannelHub:
        hub: ChannelHub = self.app.ctx.channels
        return hub


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[RunningApp]:
    """The real application, serving HTTP on a free local port in this event loop."""
    Sanic.test_mode = True  # no signal handlers, no app registry clash: as the tests run it
    app = create_app(settings, name=f"atende_bench_{uuid.uuid4().hex[:6]}")

    @app.on_request
    async def label_statements(request: Request) -> None:
        # Set on every request: keep-alive requests share one task, hence one context.
        LABEL.set(request.headers.get(LABEL_HEADER))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(
        sock=sock,
        return_asyncio_server=True,
        access_log=False,
        asyncio_server_kwargs={"start_serving": False},
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.start_serving()
    await server.after_start()
    try:
        yield RunningApp(app=app, base_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
        sock.close()


async def _until_healthy(process: asyncio.subprocess.Process, base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=1) as http:
        while process.returncode is None:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/health")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"exited with status {process.returncode}")


@contextlib.asynccontextmanager
async def served(
    settings: Settings, *, log: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[str]:
    """`atende serve` with one worker in a child process, as in production: the figures
    timed through it do not share a CPU with the load generator. Yields its base URL."""
    port = free_port()
    # No timers, as in-process: nothing runs but what is measured.
    env = {
        **settings_env(settings),
        "HOST": "127.0.0.1",
        "TIMERS_INTERVAL_SECONDS": "0",
        **(env or {}),
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        # A session of its own: Sanic's manager may kill its workers' whole process group.
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            async with asyncio.timeout(60):
                await _until_healthy(process, base_url)
        except (TimeoutError, RuntimeError) as exc:
            output = await asyncio.to_thread(log.read_text)
            raise RuntimeError(f"the server did not start ({exc!r}): {output[-2000:]}") from exc
        yield base_url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()
        # Sanic's worker may outlive its manager: end the session this server started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class CompanySetup:
    """A company with an admin, an agent of the first queue, two queues on a sandbox
    connection (so a first message gets the menu)."""

    company_id: int
    connection_id: int
    queue_ids: tuple[int, int]
    admin_headers: dict[str, str]
    agent_headers: dict[str, str]
    agent_id: int


async def _log_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await http.post("/api/auth/login", json={"email": email, "password": _PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _post(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> int:
    response = await http.post(path, json=body, headers=headers)
    if response.status_code != 201:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    return int(response.json()["id"])


async def set_up_company(http: httpx.AsyncClient, *, name: str) -> CompanySetup:
    """A company made as an installation's super-admin would, then set up through the API."""
    company = await Company.create(name=f"{name}-{uuid.uuid4().hex[:6]}")
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@bench.example.com"
    await User.create(
        company=company,
        name="Bench Admin",
        email=admin_email,
        password_hash=hash_password(_PASSWORD),
        role=Role.admin,
    )
    admin = await _log_in(http, admin_email)
    suporte = await _post(
        http, "/api/queues", {"name": "Suporte", "greeting": "Você está no Suporte."}, admin
    )
    financeiro = await _post(
        http, "/api/queues", {"name": "Financeiro", "greeting": "Financeiro aqui."}, admin
    )
    connection = await _post(
        http,
        "/api/connections",
        {
            "name": "Sandbox",
            "channel": "sandbox",
            "greeting": "Olá {{first_name}}!",
            "queue_ids": [suporte, financeiro],
        },
        admin,
    )
    agent_email = f"agent-{uuid.uuid4().hex[:8]}@bench.example.com"
    agent_id = await _post(
        http,
        "/api/users",
        {
            "name": "Bench Agent",
            "email": agent_email,
            "password": _PASSWORD,
            "role": "agent",
            "queue_ids": [suporte],
        },
        admin,
    )
    return CompanySetup(
        company_id=company.id,
        connection_id=connection,
        queue_ids=(suporte, financeiro),
        admin_headers=admin,
        agent_headers=await _log_in(http, agent_email),
        agent_id=agent_id,
    )


def bench_settings(*, database_url: str, redis_url: str, data_dir: Path) -> Settings:
    """The app's settings for a run: no timers (nothing runs but what is measured)."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key="bench-secret-key-of-a-reasonable-length",
        timers_interval_seconds=0,
        log_level="WARNING",
    )
