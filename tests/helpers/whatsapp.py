"""A WhatsApp number without WhatsApp, for the tests of logins, leases and commands."""

from __future__ import annotations

import asyncio
import base64
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from redis.asyncio import Redis

from bot.channel import ChannelEvents, ConnectionState, StateChange
from bot.sandbox import SandboxChannel
from service.channels import ChannelHub
from service.connections.models import Channel, Connection, ConnectionStatus
from service.leases import Leases, LocalLeases, RedisLeases, installation_mark
from service.settings import Settings
from tests.factories import Tenant, unique

NUMBER = "+5511987654321"
ACCOUNT = "5511987654321:7@s.whatsapp.net"
PAIRING_CODE = "ABCD-EFGH"

T = TypeVar("T")


class FakeWhatsApp(SandboxChannel):
    """Logs in like the neonize channel reports it: QR codes until `scan`, a pairing code when
    built with a pairing phone, a logout shows a new QR code. Sends, read marks and typing are
    the sandbox's."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection.id)
        self.account = connection.wa_jid
        self.pairing_phone = connection.pairing_phone
        self.qr_shown = 0
        self.logouts = 0
        self._login: asyncio.Task[None] | None = None

    async def start(self, events: ChannelEvents) -> None:
        # Like the neonize channel: started at once, logging in in the background.
        self._events = events
        self._login = asyncio.get_running_loop().create_task(self._log_in())

    async def _log_in(self) -> None:
        await self.report(ConnectionState.connecting)
        if self.account:
            await self.report(ConnectionState.connected, account=self.account)
        else:
            await self.show_qr()

    async def stop(self) -> None:
        if self._login is not None:
            self._login.cancel()
            await asyncio.gather(self._login, return_exceptions=True)
        await super().stop()

    async def show_qr(self) -> None:
        self.qr_shown += 1
        code = PAIRING_CODE if self.pairing_phone and self.qr_shown == 1 else None
        qr_code = f"2@qr-{self.connection_id}-{self.qr_shown}"
        await self.report(ConnectionState.qrcode, qr_code=qr_code, pairing_code=code)

    async def scan(self, account: str = ACCOUNT) -> None:
        """The phone scanned the QR code (or typed the pairing code)."""
        self.account = account
        await self.report(ConnectionState.connected, account=account)

    async def unlinked_by_phone(self) -> None:
        self.account = None
        await self.report(ConnectionState.logged_out, "LOGGED_OUT")
        await self.show_qr()

    async def logout(self) -> None:
        self.logouts += 1
        await self.unlinked_by_phone()

    async def report(self, state: ConnectionState, detail: str = "", **codes: Any) -> None:
        self._state = state
        if self._events is not None:
            await self._events.on_state(StateChange(self.connection_id, state, detail, **codes))


class FakeWhatsAppFactory:
    """Builds FakeWhatsApp channels and remembers them per connection."""

    def __init__(self) -> None:
        self.built: defaultdict[int, list[FakeWhatsApp]] = defaultdict(list)

    def __call__(self, connection: Connection) -> FakeWhatsApp:
        channel = FakeWhatsApp(connection)
        self.built[connection.id].append(channel)
        return channel

    async def channel(self, connection_id: int, number: int = 1) -> FakeWhatsApp:
        """The `number`th channel built for the connection, once it is."""
        await eventually(lambda: len(self.built[connection_id]) >= number)
        return self.built[connection_id][number - 1]


async def eventually(check: Callable[[], Any], *, within: float = 5.0) -> Any:
    """Wait until `check()` is truthy (work done in background tasks or another worker)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never became true")
        await asyncio.sleep(0.01)


async def eventually_async(check: Callable[[], Awaitable[T]], *, within: float = 5.0) -> T:
    """Like `eventually`, for a check that queries the database."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the condition never became true (last: {result!r})")
        await asyncio.sleep(0.01)


async def make_whatsapp(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("wa"), "channel": "whatsapp", "is_active": False, **fields}
    response = await client.post("/api/connections", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def post(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/connections/{connection_id}/{action}", json=body, headers=tenant.headers
    )


async def login_state(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int
) -> dict[str, Any]:
    response = await client.get(f"/api/connections/{connection_id}/qr", headers=tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def status_of(connection_id: int) -> ConnectionStatus:
    connection = await Connection.get(id=connection_id)
    return ConnectionStatus(connection.status)


async def until_status(connection_id: int, status: ConnectionStatus) -> None:
    async def reached() -> bool:
        return await status_of(connection_id) == status

    await eventually_async(reached)


def png_bytes(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return base64.b64decode(data_url.removeprefix(prefix))


@pytest_asyncio.fixture
async def whatsapp(app: Any) -> AsyncIterator[FakeWhatsAppFactory]:
    """The test server runs WhatsApp connections on FakeWhatsApp channels during the test."""
    hub: ChannelHub = app.ctx.channels
    factory = FakeWhatsAppFactory()
    original = hub.whatsapp_factory
    hub.whatsapp_factory = factory
    started = set(await Connection.filter(channel=Channel.whatsapp).values_list("id", flat=True))
    yield factory
    # Leave no WhatsApp connection of this test for the lease loop to run for real later.
    current = await Connection.filter(channel=Channel.whatsapp).values_list("id", flat=True)
    await Connection.filter(id__in=[i for i in current if i not in started]).update(is_active=False)
    await hub.tick()
    hub.whatsapp_factory = original


@pytest_asyncio.fixture
async def other_leases(test_settings: Settings) -> AsyncIterator[Leases]:
    """Leases as another worker (or process) of the same installation holds them."""
    if not test_settings.redis_url:
        local = LocalLeases(test_settings.data_dir / "leases", ttl_seconds=30)
        yield local
        for name in list(local._held):  # close the lock files a test left held
            await local.release(name)
        return
    redis = Redis.from_url(test_settings.redis_url, decode_responses=True)
    namespace = installation_mark(test_settings.effective_database_url)
    yield RedisLeases(redis, ttl_seconds=30, namespace=namespace)
    await redis.aclose()
