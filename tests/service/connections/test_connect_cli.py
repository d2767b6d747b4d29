"""`atende connect`: the QR code or pairing code in the terminal until the number is logged in,
run here or shown from the server that runs the connection."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sanic import Sanic

from service import cli
from service.channels import ChannelHub
from service.connections.login import LoginError, connect_in_terminal
from service.connections.models import Connection, ConnectionStatus
from service.leases import Leases, connection_lease
from service.settings import Settings
from tests.factories import Tenant, make_tenant, unique
from tests.helpers.whatsapp import (
    ACCOUNT,
    NUMBER,
    PAIRING_CODE,
    FakeWhatsAppFactory,
    eventually,
    make_whatsapp,
    other_leases,
    post,
    until_status,
    whatsapp,
)
from tests.processes import settings_env

__all__ = ["other_leases", "whatsapp"]  # fixtures

_QR_BLOCKS = ("█", "▀", "▄")


def _login(
    settings: Settings, target: str, factory: FakeWhatsAppFactory, phone: str | None = None
) -> tuple[asyncio.Task[int], io.StringIO]:
    out = io.StringIO()
    work = connect_in_terminal(
        settings, target=target, phone=phone, out=out, whatsapp_factory=factory, poll_seconds=0.01
    )
    return asyncio.create_task(work), out


async def test_logs_in_by_qr_code_here_when_nobody_runs_it(
    test_settings: Settings,
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    other_leases: Leases,
) -> None:
    connection = await make_whatsapp(client, tenant)
    cid = connection["id"]
    terminal = FakeWhatsAppFactory()
    task, out = _login(test_settings, connection["name"].upper(), terminal)
    channel = await terminal.channel(cid)
    await eventually(lambda: "Scan this QR code" in out.getvalue())
    assert any(block in out.getvalue() for block in _QR_BLOCKS)
    # This process holds the lease meanwhile: the server leaves the connection alone.
    assert await other_leases.holder(connection_lease(cid)) is not None
    await channel.show_qr()
    await eventually(lambda: out.getvalue().count("Scan this QR code") == 2)
    await channel.scan()
    assert await task == 0
    assert f"Connected as {NUMBER}." in out.getvalue()
    assert channel.state.value == "disconnected"  # handed over to the server
    stored = await Connection.get(id=cid)
    assert (stored.is_active, stored.wa_jid) == (True, ACCOUNT)
    assert not whatsapp.built[cid] or whatsapp.built[cid][-1].account == ACCOUNT


async def test_logs_in_by_pairing_code(
    test_settings: Settings, client: httpx.AsyncClient, tenant: Tenant, whatsapp: Any
) -> None:
    connection = await make_whatsapp(client, tenant)
    terminal = FakeWhatsAppFactory()
    task, out = _login(test_settings, str(connection["id"]), terminal, phone="(11) 98765-4321")
    channel = await terminal.channel(connection["id"])
    assert channel.pairing_phone == NUMBER
    await eventually(lambda: PAIRING_CODE in out.getvalue())
    assert NUMBER in out.getvalue()
    await channel.scan()
    assert await task == 0
    assert "Scan this QR code" not in out.getvalue()


async def test_an_interrupted_login_leaves_things_as_they_were(
    test_settings: Settings,
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: Any,
    other_leases: Leases,
) -> None:
    cid = (await make_whatsapp(client, tenant))["id"]
    terminal = FakeWhatsAppFactory()
    task, out = _login(test_settings, str(cid), terminal)
    channel = await terminal.channel(cid)
    await eventually(lambda: "Scan this QR code" in out.getvalue())
    task.cancel()  # Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await task
    assert channel.state.value == "disconnected"
    assert await other_leases.holder(connection_lease(cid)) is None
    stored = await Connection.get(id=cid)
    assert (stored.is_active, stored.status) == (False, ConnectionStatus.disconnected)


async def test_shows_the_login_of_the_server_that_runs_it(
    app: Sanic[Any, Any],
    test_settings: Settings,
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
) -> None:
    connection = await make_whatsapp(client, tenant)
    cid = connection["id"]
    await post(client, tenant, cid, "start")
    server_channel = await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    terminal = FakeWhatsAppFactory()
    task, out = _login(test_settings, str(cid), terminal)
    await eventually(lambda: "Scan this QR code" in out.getvalue())
    assert "elsewhere" in out.getvalue()
    await server_channel.scan()
    assert await task == 0
    assert f"Connected as {NUMBER}." in out.getvalue()
    assert not terminal.built[cid]
    hub: ChannelHub = app.ctx.channels
    assert cid in hub.owned  # still the server's


async def test_asks_the_server_for_a_pairing_code(
    app: Sanic[Any, Any],
    test_settings: Settings,
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
) -> None:
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start")
    await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    terminal = FakeWhatsAppFactory()
    task, out = _login(test_settings, str(cid), terminal, phone=NUMBER)
    # With Redis its command restarts the login at once; embedded, the server's next lease
    # round does (woken here rather than waited for).
    hub: ChannelHub = app.ctx.channels
    await eventually(lambda: restarted(hub, whatsapp, cid, wake=not test_settings.redis_url))
    await eventually(lambda: PAIRING_CODE in out.getvalue())
    server_channel = whatsapp.built[cid][-1]
    assert server_channel.pairing_phone == NUMBER
    await server_channel.scan()
    assert await task == 0
    assert not terminal.built[cid]


def restarted(hub: ChannelHub, factory: FakeWhatsAppFactory, cid: int, *, wake: bool) -> bool:
    if len(factory.built[cid]) >= 2:
        return True
    if wake:
        hub.wake()
    return False


async def test_refuses_what_it_cannot_log_in(
    test_settings: Settings, client: httpx.AsyncClient, tenant: Tenant, whatsapp: Any
) -> None:
    terminal = FakeWhatsAppFactory()
    name = unique("twice")
    first = await make_whatsapp(client, tenant, name=name)
    second = await make_whatsapp(client, await make_tenant(client), name=name)
    sandbox = await client.post(
        "/api/connections", json={"name": unique("sbx")}, headers=tenant.headers
    )
    cases = {
        "999999999": "No connection",
        unique("nope"): "No connection",
        name: f"{first['id']} ({name}), {second['id']} ({name})",
        str(sandbox.json()["id"]): "is a sandbox",
    }
    for target, message in cases.items():
        with pytest.raises(LoginError, match=re.escape(message)):
            await connect_in_terminal(
                test_settings,
                target=target,
                phone=None,
                out=io.StringIO(),
                whatsapp_factory=terminal,
            )
    with pytest.raises(LoginError, match="is not a valid phone number"):
        await connect_in_terminal(
            test_settings,
            target=str(first["id"]),
            phone="123",
            out=io.StringIO(),
            whatsapp_factory=terminal,
        )
    assert not terminal.built
    assert (await Connection.get(id=first["id"])).is_active is False


async def test_the_command_line(
    test_settings: Settings, client: httpx.AsyncClient, tenant: Tenant, whatsapp: Any
) -> None:
    """`atende connect` itself, on a connection whose WhatsApp is faked (it connects at once)."""
    connection = await make_whatsapp(client, tenant)
    env = settings_env(test_settings) | {"ATENDE_FAKE_WHATSAPP": "1"}
    command = [sys.executable, "-m", "service.cli", "connect"]
    done = await asyncio.to_thread(
        subprocess.run, [*command, connection["name"]], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert "Connected as" in done.stdout.decode()
    assert (await Connection.get(id=connection["id"])).is_active is True


def test_ctrl_c_exits_with_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(settings: Settings, work: Any) -> Any:
        work().close()  # the coroutine asyncio.run would have been cancelled in
        raise KeyboardInterrupt

    async def migrated(settings: Settings) -> None:
        return None

    monkeypatch.setattr(cli, "_with_db", interrupted)
    monkeypatch.setattr(cli, "migrate_db", migrated)
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)
    with pytest.raises(SystemExit) as exited:
        cli.main(["connect", "1"])
    assert exited.value.code == 130
