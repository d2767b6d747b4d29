"""What the inbox hears of a ticket's life: every action (accept, reply, note, transfer,
close with its rating question, reopen) reaches exactly the sockets that may see the ticket,
and `ticket.removed` the ones that no longer may; a socket that reconnects is caught up the
same way, or told to resync when the log no longer reaches back that far."""

from __future__ import annotations

from collections import deque
from typing import Any

import httpx
import pytest
from sanic import Sanic

from service.connections.models import Connection
from service.realtime.broker import Broker, InProcessBroker, RedisBroker
from service.tickets.models import Message, TicketStatus
from service.users.models import Role
from tests.factories import SYNTHETIC, Member, Tenant, agent_in, make_queue, make_ticket
from tests.helpers.realtime import Feed, feed, ticket_event

# What the inbox acts on; `message.updated` (the channel's delivery status) comes from the
# sender on its own time and `presence.updated` from the sockets themselves.
_INBOX = ("ticket.created", "ticket.updated", "ticket.removed", "message.created")


@pytest.fixture
def broker(app: Sanic[Any, Any]) -> Broker:
    return app.ctx.broker  # type: ignore[no-any-return]


def _seen(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each inbox event as (type, what it says): a ticket's status and agent, a message's body."""
    seen: list[tuple[str, Any]] = []
    for event in events:
        data = event["data"]
        if event["type"] not in _INBOX:
            continue
        if event["type"] == "message.created":
            seen.append((event["type"], data["body"]))
        elif event["type"] == "ticket.removed":
            seen.append((event["type"], data["id"]))
        else:
            seen.append((event["type"], (data["status"], data["user_id"], data["queue_id"])))
    return seen


async def _act(
    client: httpx.AsyncClient, member: Member, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    response = await client.post(path, json=body, headers=member.headers)
    assert response.status_code in (200, 201), response.text
    return response


async def test_closing_publishes_the_rating_question_it_stores(
    app: Sanic[Any, Any], broker: Broker, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    agent, colleague = await agent_in(tenant, queue), await agent_in(tenant, queue)
    ticket = await make_ticket(tenant, queue=queue, status=TicketStatus.open, user=agent.user)
    async with (
        feed(app, agent.token) as mine,
        feed(app, tenant.admin.token) as admin,
        feed(app, colleague.token) as theirs,
    ):
        await _act(client, agent, f"/api/tickets/{ticket.id}/close")
        got_mine = await mine.drain(broker, tenant.company.id)
        got_admin = await admin.drain(broker, tenant.company.id)
        got_theirs = await theirs.drain(broker, tenant.company.id)
    question = await Message.get(ticket_id=ticket.id, from_bot=True)
    assert agent.user.name in question.body  # the rating question names the agent
    closed = ("closed", agent.user.id, queue.id)
    expected = [("message.created", question.body), ("ticket.updated", closed)]
    assert _seen(got_mine) == expected
    assert _seen(got_admin) == expected
    created = next(e for e in got_mine if e["type"] == "message.created")
    assert created["data"]["id"] == question.id
    assert created["data"]["ticket_id"] == ticket.id
    assert created["data"]["direction"] == "out"
    assert created["id"]  # logged: a reconnecting tab is replayed it
    # A colleague of the queue never saw the agent's ticket: nothing of it, not even its id.
    assert _seen(got_theirs) == []


async def test_every_action_reaches_who_sees_the_ticket_and_removes_it_from_who_no_longer_does(
    app: Sanic[Any, Any], broker: Broker, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first_queue, second_queue = await make_queue(tenant), await make_queue(tenant)
    ana, bruno = await agent_in(tenant, first_queue), await agent_in(tenant, first_queue)
    carla = await agent_in(tenant, second_queue)
    await ana.user.queues.add(second_queue)  # so that she may be given the ticket there too
    supervisor = await tenant.member(Role.supervisor)
    ticket = await make_ticket(tenant, queue=first_queue)
    path = f"/api/tickets/{ticket.id}"
    people = {"ana": ana, "bruno": bruno, "carla": carla, "supervisor": supervisor}

    async with (
        feed(app, ana.token) as a,
        feed(app, bruno.token) as b,
        feed(app, carla.token) as c,
        feed(app, supervisor.token) as s,
    ):
        feeds: dict[str, Feed] = {"ana": a, "bruno": b, "carla": c, "supervisor": s}

        async def step(actor: str, action: str, body: dict[str, Any] | None = None) -> Any:
            await _act(client, people[actor], f"{path}/{action}", body)
            return {
                name: _seen(await socket.drain(broker, tenant.company.id))
                for name, socket in feeds.items()
            }

        ana_open = ("open", ana.user.id, first_queue.id)
        got = await step("ana", "accept")
        assert got["ana"] == [("ticket.updated", ana_open)]
        assert got["bruno"] == [("ticket.removed", ticket.id)]
        assert got["supervisor"] == [("ticket.updated", ana_open)]

        got = await step("ana", "messages", {"text": "Olá!"})
        assert got["ana"] == got["supervisor"] == [("message.created", "Olá!")]
        assert got["bruno"] == got["carla"] == []

        got = await step("ana", "notes", {"text": "cliente VIP"})
        assert got["ana"] == got["supervisor"] == [("message.created", "cliente VIP")]
        assert got["bruno"] == got["carla"] == []

        pending_there = ("pending", None, second_queue.id)
        got = await step("ana", "transfer", {"queue_id": second_queue.id})
        # Ana is of the second queue too: the pending ticket is still hers to see.
        assert got["ana"] == got["carla"] == [("ticket.updated", pending_there)]
        assert got["supervisor"] == [("ticket.updated", pending_there)]
        # Bruno stopped seeing it when Ana took it: told once, then, and not again.
        assert got["bruno"] == []

        carla_open = ("open", carla.user.id, second_queue.id)
        got = await step("carla", "accept")
        assert got["carla"] == got["supervisor"] == [("ticket.updated", carla_open)]
        assert got["ana"] == [("ticket.removed", ticket.id)]

        got = await step("carla", "close")
        asked = await Message.filter(ticket_id=ticket.id, from_bot=True).order_by("-id").first()
        assert asked is not None
        question = ("message.created", asked.body)
        carla_closed = ("closed", carla.user.id, second_queue.id)
        assert got["carla"] == got["supervisor"] == [question, ("ticket.updated", carla_closed)]
        assert got["ana"] == got["bruno"] == []

        got = await step("carla", "reopen")
        assert got["carla"] == got["supervisor"] == [("ticket.updated", carla_open)]
        assert got["ana"] == []

        ana_there = ("open", ana.user.id, second_queue.id)
        got = await step("supervisor", "transfer", {"user_id": ana.user.id})
        assert got["ana"] == got["supervisor"] == [("ticket.updated", ana_there)]
        assert got["carla"] == [("ticket.removed", ticket.id)]

        got = await step("ana", "read")
        assert got["ana"] == got["supervisor"] == [("ticket.updated", ana_there)]


async def _last_id(tab: Feed, broker: Broker, company_id: int) -> str:
    """The id of an event this socket received just now: where a reconnect resumes."""
    await broker.publish(
        {"type": "test.marker", "data": {"n": 0}, "audience": {"company_id": company_id}}
    )
    return str((await tab.until("test.marker"))[-1]["id"])


async def test_a_reconnecting_agent_is_caught_up_as_if_it_had_stayed(
    app: Sanic[Any, Any], broker: Broker, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    ana, bruno = await agent_in(tenant, queue), await agent_in(tenant, queue)
    waiting = await make_ticket(tenant, queue=queue)
    hers = await make_ticket(tenant, queue=queue, status=TicketStatus.open, user=ana.user)
    async with feed(app, ana.token) as tab:
        since = await _last_id(tab, broker, tenant.company.id)
    # While her socket is gone: a colleague takes the ticket she was offered and writes on
    # it; a message of her own ticket is delivered (an event that names only the ticket).
    await _act(client, bruno, f"/api/tickets/{waiting.id}/accept")
    await _act(client, bruno, f"/api/tickets/{waiting.id}/messages", {"text": "sou o Bruno"})
    await broker.publish(
        {
            "type": "message.updated",
            "data": {"id": 99, "ticket_id": hers.id, "status": "delivered"},
            "audience": {SYNTHETIC: True, "company_id": tenant.company.id, "ticket_id": hers.id},
        }
    )
    async with feed(app, ana.token, since=since) as tab:
        await broker.publish(ticket_event(hers, "message.created", body="live"))
        events = await tab.drain(broker, tenant.company.id)
    got = [
        (e["type"], e["data"].get("body") or e["data"]["id"])
        for e in events
        if e["type"] != "presence.updated"
    ]
    assert got == [
        ("ticket.removed", waiting.id),
        ("message.updated", 99),
        ("message.created", "live"),
    ]
    ids = [e["id"] for e in events if e["type"] != "presence.updated"]
    assert len(set(ids)) == len(ids)


def _shrink_log(broker: Broker, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """The broker's log capped at `size` events for this test (Redis trims whole stream
    nodes, about 100 entries, so a few hundred events are needed to see it drop any)."""
    if isinstance(broker, RedisBroker):
        monkeypatch.setattr(broker, "_log_size", size)
    else:
        assert isinstance(broker, InProcessBroker)
        monkeypatch.setattr(broker, "_log", deque(broker._log, maxlen=size))
        monkeypatch.setattr(broker, "_dropped_any", False)


async def test_a_reconnect_older_than_the_log_is_told_to_resync(
    app: Sanic[Any, Any], broker: Broker, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = await make_ticket(tenant, queue=await make_queue(tenant))
    async with feed(app, tenant.admin.token) as tab:
        since = await _last_id(tab, broker, tenant.company.id)
    _shrink_log(broker, monkeypatch, 5)
    for n in range(300):
        await broker.publish(ticket_event(ticket, "message.created", n=n))
    async with feed(app, tenant.admin.token, since=since) as tab:
        resync = await tab.next()
        assert resync["type"] == "resync"
        assert resync["id"] == tab.hello["last_id"]
    # Still within the log: replayed, not resynced.
    async with feed(app, tenant.admin.token) as tab:
        recent = tab.hello["last_id"]
    await broker.publish(ticket_event(ticket, "message.created", n=300))
    async with feed(app, tenant.admin.token, since=recent) as tab:
        events = await tab.drain(broker, tenant.company.id)
    assert [e["data"]["n"] for e in events if e["type"] == "message.created"] == [300]


async def test_a_reply_is_announced_before_the_news_of_its_sending(
    app: Sanic[Any, Any], broker: Broker, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/connections", json={"name": "WhatsApp", "channel": "sandbox"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    connection = await Connection.get(id=created.json()["id"])
    queue = await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    ticket = await make_ticket(
        tenant, queue=queue, status=TicketStatus.open, user=agent.user, connection=connection
    )
    async with feed(app, agent.token) as tab:
        sent = await _act(client, agent, f"/api/tickets/{ticket.id}/messages", {"text": "Oi!"})
        events = await tab.drain(broker, tenant.company.id)
    mine = [
        e["type"]
        for e in events
        if e["type"].startswith("message.") and e["data"]["id"] == sent.json()["id"]
    ]
    # The inbox shows a message when it is created and then updates its ticks: an update
    # before the message is known would be lost.
    assert mine[0] == "message.created", mine
    assert "message.updated" in mine
