"""Realtime across processes: real `atende serve` processes on one Postgres and one Redis.

A socket served by one process hears what an API call on another process did, scoped as on
one process (the other company and the other queue hear nothing of it); and the sockets of
`atende serve --workers 2`, spread over both workers, each receive an event exactly once.

Two servers for the module: `single` (one worker) and `pair` (two workers), on a database of
their own and the test session's Redis database."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from service.realtime.broker import RedisBroker, event_id_key
from service.settings import Settings
from tests.processes import atende_server, free_port, settings_env

pytestmark = pytest.mark.slow

_EMAIL = "realtime-workers@example.com"
_PASSWORD = "one feed, many workers"


@dataclass(frozen=True)
class Servers:
    single: str  # base URL of `atende serve --workers 1`
    pair: str  # base URL of `atende serve --workers 2`
    pair_pid: int  # its manager process: its workers are in its process group
    redis_url: str


@pytest_asyncio.fixture(scope="module")
async def servers(
    test_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Servers]:
    if not (test_settings.database_url and test_settings.redis_url):
        pytest.skip("realtime across processes needs Postgres and Redis (DATABASE_URL, REDIS_URL)")
    parts = urlsplit(test_settings.database_url)
    database = f"atende_realtime_{uuid.uuid4().hex[:8]}"
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    connection = await asyncpg.connect(admin_url)
    await connection.execute(f'CREATE DATABASE "{database}"')
    await connection.close()
    tmp = tmp_path_factory.mktemp("realtime-workers")
    env = settings_env(test_settings)
    # A database of their own (their companies are theirs); the session's Redis database,
    # whose flush at the start of the session is all the cleaning it needs.
    env.update(
        DATABASE_URL=urlunsplit(parts._replace(path=f"/{database}")),
        DATA_DIR=str(tmp / "data"),
        TIMERS_INTERVAL_SECONDS="0",
        ATENDE_ADMIN_EMAIL=_EMAIL,
        ATENDE_ADMIN_PASSWORD=_PASSWORD,
    )
    single_port, pair_port = free_port(), free_port()
    try:
        with ExitStack() as stack:
            # One after the other: each applies the migrations on start.
            stack.enter_context(atende_server(env, port=single_port, log=tmp / "single.log"))
            pair = stack.enter_context(
                atende_server(env, port=pair_port, workers=2, log=tmp / "pair.log")
            )
            yield Servers(
                single=f"http://127.0.0.1:{single_port}",
                pair=f"http://127.0.0.1:{pair_port}",
                pair_pid=pair.pid,
                redis_url=str(test_settings.redis_url),
            )
    finally:
        connection = await asyncpg.connect(admin_url)
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.close()


# The installation, set up through the API -------------------------------------------------


@dataclass(frozen=True)
class Installation:
    company_id: int
    other_company_id: int
    connection_id: int
    admin: str  # tokens
    ana: str  # agent of the first queue
    bruno: str  # agent of the second queue
    outsider: str  # admin of another company


async def _token(http: httpx.AsyncClient, email: str, password: str) -> str:
    response = await http.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _created(http: httpx.AsyncClient, path: str, token: str, body: Any) -> dict[str, Any]:
    response = await http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest_asyncio.fixture(scope="module")
async def installation(servers: Servers) -> Installation:
    async with httpx.AsyncClient(base_url=servers.single, timeout=30) as http:
        admin = await _token(http, _EMAIL, _PASSWORD)
        companies = await http.get("/api/companies", headers={"Authorization": f"Bearer {admin}"})
        [own] = companies.json()["items"]  # the first company, made on the first start
        first = await _created(http, "/api/queues", admin, {"name": "Suporte"})
        second = await _created(http, "/api/queues", admin, {"name": "Financeiro"})
        connection = await _created(
            http,
            "/api/connections",
            admin,
            {"name": "Sandbox", "channel": "sandbox", "queue_ids": [first["id"], second["id"]]},
        )
        tokens = {}
        for name, queue in (("ana", first), ("bruno", second)):
            email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
            user = {"name": name, "email": email, "password": _PASSWORD, "role": "agent"}
            await _created(http, "/api/users", admin, {**user, "queue_ids": [queue["id"]]})
            tokens[name] = await _token(http, email, _PASSWORD)
        other_email = f"other-{uuid.uuid4().hex[:6]}@example.com"
        other_admin = {"name": "Other", "email": other_email, "password": _PASSWORD}
        other = await _created(
            http, "/api/companies", admin, {"name": "Other", "admin": other_admin}
        )
        return Installation(
            company_id=int(own["id"]),
            other_company_id=int(other["id"]),
            connection_id=int(connection["id"]),
            admin=admin,
            ana=tokens["ana"],
            bruno=tokens["bruno"],
            outsider=await _token(http, other_email, _PASSWORD),
        )


# Sockets --------------------------------------------------------------------------------


class Tab:
    """One socket, and a way to know that everything published before now has arrived."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def until_marker(self, marker: str) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while True:
                event = json.loads(await self.ws.recv())
                if event["type"] == "test.marker" and event["data"]["marker"] == marker:
                    return seen
                if event["type"] not in ("test.marker", "presence.updated"):
                    seen.append(event)


@asynccontextmanager
async def _tab(base_url: str, token: str) -> AsyncIterator[Tab]:
    async with connect(base_url.replace("http://", "ws://") + f"/ws?token={token}") as ws:
        async with asyncio.timeout(10):
            hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        yield Tab(ws)


async def _everything_so_far(
    servers: Servers, tabs: list[Tab], company_ids: set[int]
) -> list[list[dict[str, Any]]]:
    """What each socket received up to a marker published now to these companies (through
    Redis, as the servers publish: it comes after everything they published before)."""
    marker = uuid.uuid4().hex
    broker = RedisBroker(Redis.from_url(servers.redis_url, decode_responses=True))
    try:
        for company_id in company_ids:
            await broker.publish(
                {
                    "type": "test.marker",
                    "data": {"marker": marker},
                    "audience": {"company_id": company_id},
                }
            )
    finally:
        await broker.close()
    return list(await asyncio.gather(*(tab.until_marker(marker) for tab in tabs)))


def _new_number() -> str:
    return f"+55119{uuid.uuid4().int % 10**8:08d}"


async def _customer_writes(
    http: httpx.AsyncClient, setup: Installation, text: str, number: str
) -> None:
    response = await http.post(
        f"/api/sandbox/{setup.connection_id}/inbound",
        json={"from": number, "name": "Maria", "text": text},
        headers={"Authorization": f"Bearer {setup.admin}"},
    )
    assert response.status_code in (200, 201, 202), response.text


def _bodies(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["body"] for e in events if e["type"] == "message.created"]


# The tests ------------------------------------------------------------------------------


async def test_an_action_on_one_process_reaches_the_sockets_of_another_scoped(
    servers: Servers, installation: Installation
) -> None:
    setup = installation
    async with (
        _tab(servers.single, setup.admin) as admin,
        _tab(servers.single, setup.ana) as ana,
        _tab(servers.single, setup.bruno) as bruno,
        _tab(servers.single, setup.outsider) as outsider,
        httpx.AsyncClient(base_url=servers.pair, timeout=30) as http,
    ):
        tabs = [admin, ana, bruno, outsider]
        companies = {setup.company_id, setup.other_company_id}
        await _everything_so_far(servers, tabs, companies)  # the presence of the others
        # A customer picks the first queue (on the other process), and Ana takes the
        # ticket and answers there.
        number = _new_number()
        for text in ("oi", "1"):
            await _customer_writes(http, setup, text, number)
        ana_auth = {"Authorization": f"Bearer {setup.ana}"}
        listed = await http.get("/api/tickets", params={"status": "pending"}, headers=ana_auth)
        [ticket] = [t for t in listed.json()["items"] if t["contact"]["number"] == number]
        accepted = await http.post(f"/api/tickets/{ticket['id']}/accept", headers=ana_auth)
        assert accepted.status_code == 200, accepted.text
        replied = await http.post(
            f"/api/tickets/{ticket['id']}/messages", json={"text": "Olá Maria!"}, headers=ana_auth
        )
        assert replied.status_code == 201, replied.text
        got = dict(
            zip(
                ("admin", "ana", "bruno", "outsider"),
                await _everything_so_far(servers, tabs, companies),
                strict=True,
            )
        )
    # The admin sees the conversation from its first word; Ana from when it reached her
    # queue (then her list fetches the ticket), so of its messages only the live reply.
    admin_saw = _bodies(got["admin"])
    assert admin_saw[0] == "oi", admin_saw
    assert "1" in admin_saw
    assert admin_saw[-1] == "Olá Maria!"
    assert _bodies(got["ana"]) == ["Olá Maria!"], got["ana"]
    for name in ("admin", "ana"):
        updates = [e["data"] for e in got[name] if e["type"] == "ticket.updated"]
        assert [(u["status"], u["user_id"]) for u in updates][-2:] == [
            ("pending", None),
            ("open", accepted.json()["user_id"]),
        ]
        # The reply is announced before the news of its sending.
        reply = next(
            e for e in got[name] if e["type"] == "message.created" and e["data"]["sender_user_id"]
        )
        sent = [
            e
            for e in got[name]
            if e["type"] == "message.updated" and e["data"]["id"] == reply["data"]["id"]
        ]
        assert sent
        assert all(event_id_key(e["id"]) > event_id_key(reply["id"]) for e in sent)
    assert len(set(_bodies(got["admin"]))) == len(_bodies(got["admin"]))  # each once
    # Bruno's queue is not the ticket's: he hears it left (or never was in) his list, no more.
    about_tickets = [
        e["type"] for e in got["bruno"] if e["type"].startswith(("ticket.", "message."))
    ]
    assert set(about_tickets) <= {"ticket.removed"}, got["bruno"]
    assert got["outsider"] == []


def _worker_of_sockets(server_pid: int, port: int) -> dict[int, int]:
    """Which worker process serves each client port of `port`: the worker whose open file
    is the socket that /proc/net/tcp lists with that pair of ports."""
    inodes: dict[str, int] = {}
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        try:
            if os.getpgid(pid) != server_pid or pid == server_pid:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    workers: dict[int, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if local_port == port and fields[9] in inodes:
            workers[remote_port] = inodes[fields[9]]
    return workers


async def test_sockets_spread_over_two_workers_each_get_an_event_once(
    servers: Servers, installation: Installation
) -> None:
    setup = installation
    count = 16
    async with AsyncExitStack() as stack:
        tabs = [
            await stack.enter_async_context(_tab(servers.pair, setup.admin)) for _ in range(count)
        ]
        ports = [tab.ws.local_address[1] for tab in tabs]
        served_by = _worker_of_sockets(servers.pair_pid, int(urlsplit(servers.pair).port or 0))
        assert set(ports) <= set(served_by), (ports, served_by)
        assert len({served_by[p] for p in ports}) == 2, served_by  # both workers have some
        await _everything_so_far(servers, tabs, {setup.company_id})
        text = f"pedido {uuid.uuid4().hex[:6]}"
        async with httpx.AsyncClient(base_url=servers.single, timeout=30) as http:
            await _customer_writes(http, setup, text, _new_number())
        got = await _everything_so_far(servers, tabs, {setup.company_id})
    for events in got:
        assert _bodies(events).count(text) == 1, events
        ids = [e["id"] for e in events]
        assert len(ids) == len(set(ids)), ids
