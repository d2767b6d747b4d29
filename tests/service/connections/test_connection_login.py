"""Logging WhatsApp numbers in and out through the API (QR code, pairing code), the states a
channel reports, the lease loop, and commands that reach the worker running a connection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sanic import Sanic

from bot.channel import ConnectionState, StateChange
from service.channels import COMMAND, ChannelHub, state_fields
from service.connections.models import Connection, ConnectionStatus
from service.leases import Leases, connection_lease
from service.tickets.models import Message, MessageStatus, Ticket
from service.users.models import Role
from tests.factories import Tenant, unique
from tests.helpers.whatsapp import (
    ACCOUNT,
    NUMBER,
    PAIRING_CODE,
    FakeWhatsAppFactory,
    eventually,
    eventually_async,
    login_state,
    make_whatsapp,
    other_leases,
    png_bytes,
    post,
    status_of,
    until_status,
    whatsapp,
)

__all__ = ["other_leases", "whatsapp"]  # fixtures


class Events:
    """connection.updated events the broker carried while a test ran."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def of(self, connection_id: int) -> list[dict[str, Any]]:
        return [
            e["data"]
            for e in self.seen
            if e.get("type") == "connection.updated" and e["data"]["id"] == connection_id
        ]


@pytest_asyncio.fixture
async def events(app: Sanic[Any, Any]) -> AsyncIterator[Events]:
    broker = app.ctx.broker
    collected = Events()
    marker = {"type": "test.marker", "data": {"id": uuid.uuid4().hex}}
    ready = asyncio.Event()

    async def listen() -> None:
        async for event in broker.listen():
            if event == marker:
                ready.set()
            else:
                collected.seen.append(event)

    task = asyncio.create_task(listen())
    # A listener subscribes once it runs: publish until it hears its own marker.
    for _ in range(500):
        await broker.publish(marker)
        try:
            await asyncio.wait_for(ready.wait(), 0.02)
            break
        except TimeoutError:
            continue
    assert ready.is_set()
    yield collected
    task.cancel()


def hub_of(app: Sanic[Any, Any]) -> ChannelHub:
    hub: ChannelHub = app.ctx.channels
    return hub


# Logging in ----------------------------------------------------------------------------------


async def test_qr_login(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    events: Events,
) -> None:
    connection = await make_whatsapp(client, tenant)
    cid = connection["id"]
    assert (await login_state(client, tenant, cid))["qr_code"] is None
    response = await post(client, tenant, cid, "start")
    assert response.status_code == 202, response.text
    assert response.json()["is_active"] is True
    assert response.json()["status"] in ("connecting", "qrcode")
    channel = await whatsapp.channel(cid)
    assert channel.pairing_phone is None
    await until_status(cid, ConnectionStatus.qrcode)

    shown = await login_state(client, tenant, cid)
    assert shown["status"] == "qrcode"
    assert shown["qr_code"] == f"2@qr-{cid}-1"
    assert png_bytes(shown["qr_png"]).startswith(b"\x89PNG")
    assert shown["pairing_code"] is None
    await eventually(lambda: any(e["qr_code"] == f"2@qr-{cid}-1" for e in events.of(cid)))
    # The code links a phone to the number: only admins get it; the others, the status.
    shown_to = {
        tuple(e["audience"]["roles"]): e["data"]
        for e in events.seen
        if e.get("type") == "connection.updated"
        and e["data"]["id"] == cid
        and e["data"]["status"] == "qrcode"
        and e["audience"] == {"company_id": tenant.company.id, "roles": e["audience"]["roles"]}
    }
    assert shown_to == {
        ("admin",): {
            "id": cid,
            "status": "qrcode",
            "detail": "",
            "qr_code": f"2@qr-{cid}-1",
            "pairing_code": None,
        },
        ("supervisor", "agent"): {
            "id": cid,
            "status": "qrcode",
            "detail": "",
            "qr_code": None,
            "pairing_code": None,
        },
    }

    await channel.show_qr()  # the QR code expired: the next one
    assert (await login_state(client, tenant, cid))["qr_code"] == f"2@qr-{cid}-2"

    await channel.scan()
    assert await login_state(client, tenant, cid) == {
        "status": "connected",
        "qr_code": None,
        "qr_png": None,
        "pairing_code": None,
    }
    shown_connection = (await client.get(f"/api/connections/{cid}", headers=tenant.headers)).json()
    assert shown_connection["status"] == "connected"
    assert shown_connection["phone_number"] == NUMBER
    stored = await Connection.get(id=cid)
    assert (stored.wa_jid, stored.qr_code, stored.pairing_code) == (ACCOUNT, None, None)
    connected = [e for e in events.seen if e["data"] == events.of(cid)[-1]]
    assert connected[-1]["audience"] == {"company_id": tenant.company.id}  # everyone's news
    assert connected[-1]["data"] == {
        "id": cid,
        "status": "connected",
        "detail": "",
        "qr_code": None,
        "pairing_code": None,
    }
    hub = hub_of(app)
    assert cid in hub.owned
    assert await hub.leases.holder(connection_lease(cid)) == hub.worker_id


async def test_pairing_code_login(
    client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory, events: Events
) -> None:
    cid = (await make_whatsapp(client, tenant))["id"]
    response = await post(client, tenant, cid, "start", pairing_phone="+55 (11) 98765-4321")
    assert response.status_code == 202, response.text
    channel = await whatsapp.channel(cid)
    assert channel.pairing_phone == NUMBER
    await until_status(cid, ConnectionStatus.qrcode)
    shown = await login_state(client, tenant, cid)
    assert shown["pairing_code"] == PAIRING_CODE
    await eventually(lambda: any(e["pairing_code"] == PAIRING_CODE for e in events.of(cid)))
    await channel.show_qr()  # later QR codes keep the pairing code on show
    assert (await login_state(client, tenant, cid))["pairing_code"] == PAIRING_CODE

    await channel.scan()
    stored = await Connection.get(id=cid)
    assert (stored.pairing_phone, stored.pairing_code, stored.wa_jid) == (None, None, ACCOUNT)
    assert (await login_state(client, tenant, cid))["pairing_code"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pairing_phone": "12345"}, "pairing_phone"),
        ({"pairing_phone": "not a number"}, "pairing_phone"),
        ({"pairing_phone": "+999 1234 5678"}, "pairing_phone"),
        ({"pairing_phone": ""}, "pairing_phone"),
        ({"pairing_phone": 5511987654321}, "pairing_phone"),
        ({"pairing_phone": "9" * 41}, "pairing_phone"),
        ({"phone": NUMBER}, "phone"),
    ],
)
async def test_start_refuses_what_is_not_a_phone_number(
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    body: dict[str, Any],
    field: str,
) -> None:
    connection = await make_whatsapp(client, tenant)
    response = await post(client, tenant, connection["id"], "start", **body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    unchanged = await client.get(f"/api/connections/{connection['id']}", headers=tenant.headers)
    assert unchanged.json() == connection
    assert not whatsapp.built[connection["id"]]


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_only_admins_log_numbers_in_and_out(
    client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory, role: Role
) -> None:
    connection = await make_whatsapp(client, tenant)
    cid = connection["id"]
    member = await tenant.member(role)
    for action in ("start", "stop", "logout"):
        url = f"/api/connections/{cid}/{action}"
        assert (await client.post(url, json={}, headers=member.headers)).status_code == 403
        assert (await client.post(url, json={})).status_code == 401
    qr = f"/api/connections/{cid}/qr"
    assert (await client.get(qr, headers=member.headers)).status_code == 403
    assert (await client.get(qr)).status_code == 401
    unchanged = await client.get(f"/api/connections/{cid}", headers=tenant.headers)
    assert unchanged.json() == connection
    assert not whatsapp.built[cid]


async def test_stop_keeps_the_session(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    hub = hub_of(app)
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start")
    channel = await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    await channel.scan()

    response = await post(client, tenant, cid, "stop")
    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["is_active"], shown["status"], shown["status_detail"]) == (
        False,
        "disconnected",
        "stopped",
    )
    assert channel.state is ConnectionState.disconnected
    assert hub.sessions.channel(cid) is None
    assert cid not in hub.owned
    assert await hub.leases.holder(connection_lease(cid)) is None
    assert (await Connection.get(id=cid)).wa_jid == ACCOUNT
    assert await status_of(cid) == ConnectionStatus.disconnected

    # Started again, it logs in with the session it kept: no QR code.
    assert (await post(client, tenant, cid, "start")).status_code == 202
    again = await whatsapp.channel(cid, 2)
    await until_status(cid, ConnectionStatus.connected)
    assert again.account == ACCOUNT
    assert again.qr_shown == 0


async def test_logout_unlinks_the_number_and_stops(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    hub = hub_of(app)
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start", pairing_phone=NUMBER)
    channel = await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    await channel.scan()

    response = await post(client, tenant, cid, "logout")
    assert response.status_code == 200, response.text
    assert (response.json()["is_active"], response.json()["status"]) == (False, "logged_out")
    assert channel.logouts == 1
    assert channel.state is ConnectionState.disconnected
    assert hub.sessions.channel(cid) is None
    assert cid not in hub.owned
    assert await hub.leases.holder(connection_lease(cid)) is None
    stored = await Connection.get(id=cid)
    # What the channel reported while logging out (a new QR code) was not kept.
    assert (stored.status, stored.wa_jid, stored.qr_code, stored.pairing_phone) == (
        ConnectionStatus.logged_out,
        None,
        None,
        None,
    )
    assert await login_state(client, tenant, cid) == {
        "status": "logged_out",
        "qr_code": None,
        "qr_png": None,
        "pairing_code": None,
    }

    assert (await post(client, tenant, cid, "start")).status_code == 202
    fresh = await whatsapp.channel(cid, 2)
    assert fresh.account is None
    await until_status(cid, ConnectionStatus.qrcode)


async def test_logout_of_a_number_nobody_runs_forgets_its_session(
    client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    cid = (await make_whatsapp(client, tenant))["id"]
    await Connection.filter(id=cid).update(
        wa_jid=ACCOUNT, status=ConnectionStatus.disconnected, phone_number=NUMBER
    )
    response = await post(client, tenant, cid, "logout")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "logged_out"
    assert (await Connection.get(id=cid)).wa_jid is None
    assert not whatsapp.built[cid]


async def test_session_changes_are_audited(
    client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start", pairing_phone=NUMBER)
    await post(client, tenant, cid, "stop")
    await post(client, tenant, cid, "logout")
    response = await client.get(
        "/api/audit-log",
        params={"object_type": "connection", "object_id": str(cid)},
        headers=tenant.headers,
    )
    entries = response.json()["items"]
    assert [e["action"] for e in entries] == ["logout", "stop", "start", "create"]
    start = entries[2]
    assert (start["before"]["is_active"], start["after"]["is_active"]) == (False, True)
    assert start["after"]["pairing_phone"] == NUMBER
    assert all("qr_code" not in (e["after"] or {}) for e in entries)


async def test_what_the_channel_reports_is_shown(
    client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start")
    channel = await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    await channel.scan()

    await channel.report(ConnectionState.disconnected, "network unreachable")
    shown = (await client.get(f"/api/connections/{cid}", headers=tenant.headers)).json()
    assert (shown["status"], shown["status_detail"]) == ("disconnected", "network unreachable")
    assert shown["phone_number"] == NUMBER

    await channel.unlinked_by_phone()  # a logout from the phone asks for a new QR code
    stored = await Connection.get(id=cid)
    assert (stored.status, stored.wa_jid, stored.qr_code) == (
        ConnectionStatus.qrcode,
        None,
        f"2@qr-{cid}-2",
    )

    await channel.report(ConnectionState.banned, "TEMP_BANNED, for 3600 s")
    shown = (await client.get(f"/api/connections/{cid}", headers=tenant.headers)).json()
    assert (shown["status"], shown["status_detail"]) == ("banned", "TEMP_BANNED, for 3600 s")
    assert (await login_state(client, tenant, cid))["qr_code"] is None


def test_state_fields() -> None:
    def change(state: ConnectionState, **fields: Any) -> dict[str, Any]:
        return state_fields(StateChange(1, state, **fields))

    assert change(ConnectionState.qrcode, qr_code="q") == {
        "status": ConnectionStatus.qrcode,
        "status_detail": "",
        "qr_code": "q",
    }
    assert change(ConnectionState.qrcode, pairing_code="P") == {
        "status": ConnectionStatus.qrcode,
        "status_detail": "",
        "pairing_code": "P",
    }
    assert change(ConnectionState.connected, account="5511987654321@s.whatsapp.net") == {
        "status": ConnectionStatus.connected,
        "status_detail": "",
        "qr_code": None,
        "pairing_code": None,
        "wa_jid": "5511987654321@s.whatsapp.net",
        "pairing_phone": None,
        "phone_number": NUMBER,
    }
    hidden = change(ConnectionState.connected, account="123456789@lid")
    assert hidden["wa_jid"] == "123456789@lid"
    assert "phone_number" not in hidden
    assert "wa_jid" not in change(ConnectionState.connected)  # the sandbox has no account
    assert change(ConnectionState.logged_out)["wa_jid"] is None
    assert len(change(ConnectionState.disconnected, detail="x" * 900)["status_detail"]) == 500


async def test_starting_a_sandbox_restarts_it_here(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = {"name": unique("sbx"), "channel": "sandbox"}
    cid = (await client.post("/api/connections", json=body, headers=tenant.headers)).json()["id"]
    before = await hub_of(app).sandbox(cid)
    response = await post(client, tenant, cid, "start", pairing_phone=NUMBER)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "connected"
    after = await hub_of(app).sandbox(cid)
    assert after is not before
    assert before.state is ConnectionState.disconnected
    assert (await Connection.get(id=cid)).pairing_phone is None  # no login for a sandbox
    assert cid not in hub_of(app).owned  # sandboxes run in every worker, without a lease
    stopped = await post(client, tenant, cid, "stop")
    assert (stopped.json()["status"], stopped.json()["is_active"]) == ("disconnected", False)
    assert hub_of(app).sessions.channel(cid) is None


# The lease loop ------------------------------------------------------------------------------


async def test_activating_deactivating_and_deleting_start_and_stop_the_channel(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    hub = hub_of(app)
    cid = (await make_whatsapp(client, tenant))["id"]
    await Connection.filter(id=cid).update(wa_jid=ACCOUNT)
    url = f"/api/connections/{cid}"
    await client.patch(url, json={"is_active": True}, headers=tenant.headers)
    channel = await whatsapp.channel(cid)  # the loop woke up and took it
    await until_status(cid, ConnectionStatus.connected)
    assert cid in hub.owned

    await client.patch(url, json={"is_active": False}, headers=tenant.headers)
    await eventually(lambda: cid not in hub.owned)
    assert channel.state is ConnectionState.disconnected
    stored = await Connection.get(id=cid)
    assert (stored.status, stored.status_detail) == (ConnectionStatus.disconnected, "stopped")
    assert await hub.leases.holder(connection_lease(cid)) is None

    await client.patch(url, json={"is_active": True}, headers=tenant.headers)
    await whatsapp.channel(cid, 2)
    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    await eventually(lambda: cid not in hub.owned)
    assert hub.sessions.channel(cid) is None


async def test_a_lost_lease_stops_the_channel(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    other_leases: Leases,
) -> None:
    hub = hub_of(app)
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start")
    channel = await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    # The lease expired (this worker stalled) and another worker took it.
    await hub.leases.release(connection_lease(cid))
    assert await other_leases.acquire(connection_lease(cid))
    await hub.tick()
    assert cid not in hub.owned
    assert channel.state is ConnectionState.disconnected
    assert hub.sessions.channel(cid) is None
    # The new owner's to report: this worker wrote nothing, gave nothing up.
    assert await status_of(cid) == ConnectionStatus.qrcode
    assert await other_leases.holder(connection_lease(cid)) == other_leases.worker_id
    await hub.tick()
    assert cid not in hub.owned  # nor takes it back while the other holds it
    await other_leases.release(connection_lease(cid))
    await hub.tick()
    assert cid in hub.owned
    await whatsapp.channel(cid, 2)


async def test_a_new_pairing_number_restarts_the_login(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, whatsapp: FakeWhatsAppFactory
) -> None:
    """What `atende connect --phone` does when the server runs the connection: it stores the
    number, and the server's lease round builds the channel again to ask for the code."""
    cid = (await make_whatsapp(client, tenant))["id"]
    await post(client, tenant, cid, "start")
    await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.qrcode)
    await hub_of(app).tick()
    assert len(whatsapp.built[cid]) == 1  # nothing changed: nothing restarted
    await Connection.filter(id=cid).update(pairing_phone=NUMBER)
    await hub_of(app).tick()
    again = await whatsapp.channel(cid, 2)
    assert again.pairing_phone == NUMBER
    await again.scan()  # logged in: the number is no longer wanted, nothing restarts
    await hub_of(app).tick()
    assert len(whatsapp.built[cid]) == 2


# Commands between workers --------------------------------------------------------------------


@pytest_asyncio.fixture
async def worker_b(
    app: Sanic[Any, Any], test_settings: Any, clock: Any, other_leases: Leases
) -> AsyncIterator[tuple[ChannelHub, FakeWhatsAppFactory]]:
    """A second worker in this process: its own hub and leases, the same broker."""
    hub = ChannelHub(
        settings=test_settings, broker=app.ctx.broker, clock=clock, leases=other_leases
    )
    factory = FakeWhatsAppFactory()
    hub.whatsapp_factory = factory
    listener = asyncio.create_task(hub.listen_for_commands())
    yield hub, factory
    listener.cancel()
    await hub.stop()


async def _run_by(hub: ChannelHub, connection_id: int) -> None:
    """`hub` takes the connection's lease first, then the connection becomes active."""
    assert await hub.leases.acquire(connection_lease(connection_id))
    await Connection.filter(id=connection_id).update(is_active=True, wa_jid=ACCOUNT)
    await hub.tick(only=connection_id)
    assert hub.owned == [connection_id]


async def test_commands_reach_the_worker_that_runs_the_connection(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    worker_b: tuple[ChannelHub, FakeWhatsAppFactory],
) -> None:
    here = hub_of(app)  # worker A: handles the HTTP requests
    there, built_there = worker_b
    cid = (await make_whatsapp(client, tenant))["id"]
    await _run_by(there, cid)
    channel = await built_there.channel(cid)
    await until_status(cid, ConnectionStatus.connected)
    await here.tick()
    assert cid not in here.owned
    assert not whatsapp.built[cid]

    # A customer writes to worker B's channel; an agent answers through worker A.
    inbound = await channel.deliver(sender=NUMBER, text="oi", push_name="Maria")
    ticket = await Ticket.get(connection_id=cid)
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    sent = await client.post(
        f"/api/tickets/{ticket.id}/messages", json={"text": "Olá!"}, headers=tenant.headers
    )
    assert sent.status_code == 201, sent.text
    await eventually(lambda: [m.text for m in channel.sent[NUMBER]][-1:] == ["Olá!"])

    async def delivered() -> bool:
        message = await Message.get(id=sent.json()["id"])
        return message.status in (MessageStatus.sent, MessageStatus.delivered)

    await eventually_async(delivered)

    await here.mark_read(cid, NUMBER, [inbound.channel_message_id])
    await eventually(lambda: channel.marked_read[NUMBER] == [inbound.channel_message_id])
    await here.set_typing(cid, NUMBER, True)
    await eventually(lambda: channel.typing[NUMBER] == [True])
    # Another installation on the same Redis (pub/sub ignores database numbers) is not obeyed.
    foreign = {"site": "elsewhere", "connection_id": cid, "action": "set_typing", "chat": NUMBER}
    await app.ctx.broker.publish({"type": COMMAND, "data": {**foreign, "typing": False}})
    await here.set_typing(cid, NUMBER, True)
    await eventually(lambda: len(channel.typing[NUMBER]) == 2)
    assert channel.typing[NUMBER] == [True, True]

    # Restarted, stopped and logged out by worker B, asked through worker A.
    assert (await post(client, tenant, cid, "start")).status_code == 202
    restarted = await built_there.channel(cid, 2)
    assert channel.state is ConnectionState.disconnected
    await until_status(cid, ConnectionStatus.connected)
    assert there.owned == [cid]

    assert (await post(client, tenant, cid, "stop")).status_code == 200

    async def released() -> bool:
        return await there.leases.holder(connection_lease(cid)) is None

    await eventually_async(released)
    assert not there.owned
    assert restarted.state is ConnectionState.disconnected
    assert (await Connection.get(id=cid)).wa_jid == ACCOUNT

    await _run_by(there, cid)
    third = await built_there.channel(cid, 3)
    await until_status(cid, ConnectionStatus.connected)
    assert (await post(client, tenant, cid, "logout")).status_code == 200
    await eventually_async(released)
    assert not there.owned
    assert third.logouts == 1
    stored = await Connection.get(id=cid)
    assert (stored.status, stored.wa_jid, stored.is_active) == (
        ConnectionStatus.logged_out,
        None,
        False,
    )
    assert not whatsapp.built[cid]  # worker A never ran it


async def test_a_start_for_a_connection_nobody_runs_is_taken_here(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    worker_b: tuple[ChannelHub, FakeWhatsAppFactory],
) -> None:
    there, built_there = worker_b
    cid = (await make_whatsapp(client, tenant))["id"]
    assert (await post(client, tenant, cid, "start")).status_code == 202
    await whatsapp.channel(cid)
    assert cid in hub_of(app).owned
    await there.tick(only=cid)
    assert not there.owned
    assert not built_there.built[cid]


async def test_a_worker_that_shuts_down_hands_its_connections_over(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    whatsapp: FakeWhatsAppFactory,
    worker_b: tuple[ChannelHub, FakeWhatsAppFactory],
) -> None:
    there, built_there = worker_b
    cid = (await make_whatsapp(client, tenant))["id"]
    await _run_by(there, cid)
    channel = await built_there.channel(cid)
    await until_status(cid, ConnectionStatus.connected)
    await there.stop()
    assert channel.state is ConnectionState.disconnected
    assert await there.leases.holder(connection_lease(cid)) is None
    stored = await Connection.get(id=cid)
    assert (stored.status, stored.status_detail) == (
        ConnectionStatus.disconnected,
        "worker stopped",
    )
    await hub_of(app).tick()  # the next round of another worker takes it over
    await whatsapp.channel(cid)
    await until_status(cid, ConnectionStatus.connected)
