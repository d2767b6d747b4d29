"""A real WhatsApp connection started here, where WhatsApp cannot be reached: neonize's Go
core runs for real, the connection says why it is not connected, and nothing else suffers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest_asyncio
from sanic import Sanic

from service.channels import ChannelHub, whatsapp_store_lock
from service.settings import Settings
from tests.factories import Tenant


async def _first_failure(client: httpx.AsyncClient, url: str, tenant: Tenant) -> dict[str, Any]:
    """The connection once it first says why it is not connected."""
    async with asyncio.timeout(30):
        while True:
            connection: dict[str, Any] = (await client.get(url, headers=tenant.headers)).json()
            if connection["status"] == "disconnected" and connection["status_detail"]:
                return connection
            await asyncio.sleep(0.1)


def _unreachable(detail: str) -> bool:
    return "websocket" in detail or "dial" in detail


async def test_starting_without_network_reports_the_state_and_harms_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/connections", json={"name": "Loja", "channel": "whatsapp"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    url = f"/api/connections/{created.json()['id']}"
    started = await client.post(f"{url}/start", json={}, headers=tenant.headers)
    assert started.status_code == 202, started.text
    connection = await _first_failure(client, url, tenant)
    assert _unreachable(connection["status_detail"]), connection["status_detail"]
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    qr = await client.get(f"{url}/qr", headers=tenant.headers)
    assert qr.status_code == 200
    assert qr.json()["qr_code"] is None
    stopped = await client.post(f"{url}/stop", headers=tenant.headers)
    assert stopped.status_code in (200, 202, 204), stopped.text
    connection = (await client.get(url, headers=tenant.headers)).json()
    assert connection["is_active"] is False


@pytest_asyncio.fixture
async def fresh_store(
    app: Sanic[Any, Any], test_settings: Settings, tmp_path: Path
) -> AsyncIterator[str]:
    """The hub keeps its WhatsApp sessions in a store nothing has opened yet (a new Postgres
    database, or a new SQLite file), as on an installation's first start."""
    hub: ChannelHub = app.ctx.channels
    admin_url = None
    name = f"atende_test_wa_{uuid.uuid4().hex[:8]}"
    if test_settings.database_url:
        parts = urlsplit(test_settings.effective_database_url)
        admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        store = urlunsplit(parts._replace(path=f"/{name}", query="sslmode=prefer"))
    else:
        store = str(tmp_path / "whatsapp.sqlite3")
    previous, hub.whatsapp_store = hub.whatsapp_store, store
    yield store
    hub.whatsapp_store = previous
    if admin_url:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_connections_starting_together_on_a_fresh_store_all_reach_whatsapp(
    client: httpx.AsyncClient, tenant: Tenant, fresh_store: str
) -> None:
    """whatsmeow creates its tables on the first open of the store: two connections created
    and restarted at the same moment must not upgrade it side by side (one of them would
    fail for good with "duplicate key … pg_type" or "column compat … already exists")."""

    async def create(name: str) -> str:
        created = await client.post(
            "/api/connections", json={"name": name, "channel": "whatsapp"}, headers=tenant.headers
        )
        assert created.status_code == 201, created.text
        return f"/api/connections/{created.json()['id']}"

    urls = await asyncio.gather(create("Loja 1"), create("Loja 2"))
    starts = await asyncio.gather(
        *(client.post(f"{url}/start", json={}, headers=tenant.headers) for url in urls)
    )
    assert [started.status_code for started in starts] == [202, 202], [s.text for s in starts]
    failures = await asyncio.gather(*(_first_failure(client, url, tenant) for url in urls))
    details = [connection["status_detail"] for connection in failures]
    assert all(_unreachable(detail) for detail in details), details
    for url in urls:
        stopped = await client.post(f"{url}/stop", headers=tenant.headers)
        assert stopped.status_code in (200, 202, 204), stopped.text


async def test_one_worker_at_a_time_holds_the_store_upgrade_lock(
    app: Sanic[Any, Any], test_settings: Settings, tmp_path: Path
) -> None:
    """What keeps two workers (each its own database session, or its own open lock file) from
    upgrading the store together: the second waits until the first is done."""
    if test_settings.database_url:
        store = test_settings.whatsapp_store
    else:
        store = str(tmp_path / "whatsapp.sqlite3")
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with whatsapp_store_lock(store):
            order.append("first in")
            first_in.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with whatsapp_store_lock(store):
            order.append("second in")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_in.wait()
    await asyncio.sleep(0.3)  # time enough for the second to get in, were it not locked out
    assert order == ["first in"]
    release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(*tasks)
    assert order == ["first in", "first out", "second in"]
