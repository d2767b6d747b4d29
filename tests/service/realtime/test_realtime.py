"""The websocket feed: who receives which event, presence, and catching up after a reconnect."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sanic import Sanic
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from service.realtime.broker import Broker
from service.tickets.models import TicketStatus
from service.users.models import Role
from tests.factories import SYNTHETIC, Member, Tenant, agent_in, make_queue, make_ticket
from tests.helpers.realtime import feed, ticket_event
from tests.helpers.whatsapp import eventually_async


@pytest.fixture
def broker(app: Sanic[Any, Any]) -> Broker:
    return app.ctx.broker  # type: ignore[no-any-return]


async def test_a_bad_token_is_refused(app: Sanic[Any, Any]) -> None:
    url = app.ctx.test_base_url.replace("http://", "ws://") + "/ws?token=nope"
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_each_event_reaches_exactly_who_may_see_it(
    app: Sanic[Any, Any], broker: Broker, tenant: Tenant, other_tenant: Tenant
) -> None:
    queue_a, queue_b = await make_queue(tenant), await make_queue(tenant)
    agent_a, agent_b = await agent_in(tenant, queue_a), await agent_in(tenant, queue_b)
    supervisor = await tenant.member(Role.supervisor)
    pending_a = await make_ticket(tenant, queue=queue_a)
    open_b = await make_ticket(tenant, queue=queue_b, status=TicketStatus.open, user=agent_b.user)
    no_queue = await make_ticket(tenant)
    company_wide = {
        "type": "contact.updated",
        "data": {"id": 1},
        "audience": {SYNTHETIC: True, "company_id": tenant.company.id},
    }
    for_admins = {
        "type": "connection.updated",
        "data": {"id": 2},
        "audience": {SYNTHETIC: True, "company_id": tenant.company.id, "roles": ["admin"]},
    }
    people: dict[str, Member] = {
        "admin": tenant.admin,
        "supervisor": supervisor,
        "agent_a": agent_a,
        "agent_b": agent_b,
        "outsider": other_tenant.admin,
    }
    received: dict[str, list[tuple[str, Any]]] = {}
    async with (
        feed(app, people["admin"].token) as admin,
        feed(app, people["supervisor"].token) as sup,
        feed(app, people["agent_a"].token) as a,
        feed(app, people["agent_b"].token) as b,
        feed(app, people["outsider"].token) as outsider,
    ):
        for event in (
            ticket_event(pending_a, "message.created", body="secret A"),
            ticket_event(open_b, "message.created", body="secret B"),
            ticket_event(no_queue, "ticket.created"),
            company_wide,
            for_admins,
        ):
            await broker.publish(event)
        for name, socket in (("admin", admin), ("supervisor", sup), ("agent_a", a), ("agent_b", b)):
            events = await socket.drain(broker, tenant.company.id)
            received[name] = [
                (e["type"], e["data"]["id"]) for e in events if e["type"] != "presence.updated"
            ]
        leaked = await outsider.drain(broker, other_tenant.company.id)
    everything = [
        ("message.created", pending_a.id),
        ("message.created", open_b.id),
        ("ticket.created", no_queue.id),
        ("contact.updated", 1),
        ("connection.updated", 2),
    ]
    assert received["admin"] == everything
    assert received["supervisor"] == everything[:4]
    assert received["agent_a"] == [("message.created", pending_a.id), ("contact.updated", 1)]
    assert received["agent_b"] == [("message.created", open_b.id), ("contact.updated", 1)]
    assert [e for e in leaked if e["type"] != "presence.updated"] == []
    for events in received.values():
        assert all("audience" not in str(e) for e in events)


async def test_an_accepted_ticket_is_removed_from_the_other_agents_lists(
    app: Sanic[Any, Any], broker: Broker, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    first, second = await agent_in(tenant, queue), await agent_in(tenant, queue)
    ticket = await make_ticket(tenant, queue=queue)
    async with feed(app, first.token) as mine, feed(app, second.token) as theirs:
        accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=first.headers)
        assert accepted.status_code == 200, accepted.text
        got_mine = await mine.drain(broker, tenant.company.id)
        got_theirs = await theirs.drain(broker, tenant.company.id)
    updates = [e for e in got_mine if e["type"] == "ticket.updated"]
    assert updates
    assert updates[-1]["data"]["user_id"] == first.user.id
    removed = [e for e in got_theirs if e["type"] == "ticket.removed"]
    assert removed
    assert removed[-1]["data"] == {"id": ticket.id}
    assert not [e for e in got_theirs if e["type"] in ("ticket.updated", "message.created")]


async def test_a_customer_message_arrives_live_in_the_inbox(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection = await client.post(
        "/api/connections", json={"name": "WhatsApp", "channel": "sandbox"}, headers=tenant.headers
    )
    assert connection.status_code == 201, connection.text
    async with feed(app, tenant.admin.token) as admin:
        sent = await client.post(
            f"/api/sandbox/{connection.json()['id']}/inbound",
            json={"from": "+5511955554444", "name": "Ana", "text": "<b>oi</b>"},
            headers=tenant.headers,
        )
        assert sent.status_code in (200, 201, 202), sent.text
        events = await admin.until("message.created")
    assert events[-1]["data"]["body"] == "<b>oi</b>"
    assert events[-1]["id"]


async def test_presence_online_and_offline(
    app: Sanic[Any, Any], broker: Broker, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.member(Role.agent)
    async with feed(app, tenant.admin.token) as admin:
        async with feed(app, agent.token) as tab:
            assert agent.user.id in tab.hello["online"]
            online = await admin.until("presence.updated", user_id=agent.user.id)
            assert online[-1]["data"] == {"user_id": agent.user.id, "online": True}
            await tab.ws.send(json.dumps({"type": "ping"}))
            assert (await tab.until("pong"))[-1]["type"] == "pong"
            listed = await client.get("/api/presence", headers=tenant.headers)
            assert listed.status_code == 200
            assert agent.user.id in listed.json()["online"]
            async with feed(app, agent.token):
                pass  # a second tab closing leaves the agent online
            assert [
                e
                for e in await admin.drain(broker, tenant.company.id)
                if e["type"] == "presence.updated"
            ] == []
        offline = await admin.until("presence.updated", user_id=agent.user.id)
        assert offline[-1]["data"] == {"user_id": agent.user.id, "online": False}
    listed = await client.get("/api/presence", headers=tenant.headers)
    assert agent.user.id not in listed.json()["online"]


async def test_a_reconnecting_tab_gets_what_it_missed_once_and_in_order(
    app: Sanic[Any, Any], broker: Broker, tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    ticket = await make_ticket(tenant, queue=queue)
    async with feed(app, tenant.admin.token) as tab:
        await broker.publish(ticket_event(ticket, "message.created", n=1))
        first = (await tab.until("message.created"))[-1]
    for n in (2, 3):
        await broker.publish(ticket_event(ticket, "message.created", n=n))
    async with feed(app, tenant.admin.token, since=first["id"]) as tab:
        await broker.publish(ticket_event(ticket, "message.created", n=4))
        events = await tab.drain(broker, tenant.company.id)
    numbers = [e["data"]["n"] for e in events if e["type"] == "message.created"]
    assert numbers == [2, 3, 4]


async def test_a_reconnect_from_too_long_ago_is_told_to_resync(
    app: Sanic[Any, Any], tenant: Tenant
) -> None:
    async with feed(app, tenant.admin.token, since="not-an-id") as tab:
        assert (await tab.next())["type"] == "resync"


async def test_sockets_beyond_the_cap_per_address_are_closed_with_4029(
    app: Sanic[Any, Any], tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    capped = app.ctx.settings.model_copy(update={"max_websockets_per_ip": 2})
    monkeypatch.setattr(app.ctx, "settings", capped)
    async with feed(app, tenant.admin.token), feed(app, tenant.admin.token):
        url = app.ctx.test_base_url.replace("http://", "ws://") + f"/ws?token={tenant.admin.token}"
        async with connect(url) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(5):
                    await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4029

    # The two closed: welcome again, once the server has seen them end (a socket counts
    # until its handler has finished, a moment after the client's close).
    async def welcomed() -> bool:
        try:
            async with feed(app, tenant.admin.token) as again:
                return bool(again.hello)
        except ConnectionClosed:
            return False

    assert await eventually_async(welcomed)
