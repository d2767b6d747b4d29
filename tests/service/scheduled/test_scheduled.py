"""Scheduled messages: sent when due into the contact's active ticket (or a new open one
of the author), exactly once with two runners racing, cancel, edit, the past refused,
who may change what, and the customer receiving it on the sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sanic import Sanic

from flows.texts import greeting_at
from service.campaigns.models import ScheduledMessage
from service.scheduled.runner import ScheduledRunner
from service.tickets.models import Message, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Member, Tenant, unique

_numbers = iter(range(10_000_000, 99_999_999))
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)


async def _setup(tenant: Tenant) -> dict[str, Any]:
    client, headers = tenant.client, tenant.headers
    connection = await client.post(
        "/api/connections",
        json={"name": unique("sandbox"), "channel": "sandbox"},
        headers=headers,
    )
    assert connection.status_code == 201, connection.text
    number = f"+55119{next(_numbers)}"
    contact = await client.post(
        "/api/contacts", json={"number": number, "name": "Maria"}, headers=headers
    )
    assert contact.status_code == 201, contact.text
    return {
        "connection_id": connection.json()["id"],
        "contact_id": contact.json()["id"],
        "number": number,
    }


async def _schedule(
    tenant: Tenant, who: Member, setup: dict[str, Any], clock: FakeClock, **extra: Any
) -> httpx.Response:
    body = {
        "contact_id": setup["contact_id"],
        "connection_id": setup["connection_id"],
        "body": "Seu pedido chegou!",
        "send_at": (clock() + timedelta(hours=1)).isoformat(),
        **extra,
    }
    return await tenant.client.post("/api/scheduled-messages", json=body, headers=who.headers)


async def _received(tenant: Tenant, setup: dict[str, Any]) -> list[dict[str, Any]]:
    response = await tenant.client.get(
        f"/api/sandbox/{setup['connection_id']}/outbound",
        params={"to": setup["number"]},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _runner(app: Sanic[Any, Any]) -> ScheduledRunner:
    runner: ScheduledRunner = app.ctx.scheduled_runner
    return runner


async def _tick_after(app: Sanic[Any, Any], clock: FakeClock, delta: timedelta) -> int:
    """Run the server's runner `delta` from now, then come back (access tokens last 15
    minutes of the same clock)."""
    clock.advance(delta)
    try:
        return await _runner(app).tick()
    finally:
        clock.advance(-delta)


async def test_due_message_goes_to_a_new_open_ticket_of_its_author(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    agent = await tenant.member(Role.agent)
    created = await _schedule(tenant, agent, setup, clock)
    assert created.status_code == 201, created.text
    row = created.json()
    assert row["status"] == "pending"
    assert row["user_id"] == agent.user.id
    assert row["user_name"] == agent.user.name

    await _runner(app).tick()
    assert (await ScheduledMessage.get(id=row["id"])).status == "pending"  # not due yet

    assert await _tick_after(app, clock, timedelta(hours=1, seconds=1)) == 1
    got = await tenant.client.get(f"/api/scheduled-messages/{row['id']}", headers=agent.headers)
    sent = got.json()
    assert sent["status"] == "sent", sent
    assert sent["sent_at"] is not None
    message = await Message.get(id=sent["message_id"])
    assert message.body == "Seu pedido chegou!"
    assert message.sender_user_id == agent.user.id  # type: ignore[attr-defined]
    ticket = await Ticket.get(id=sent["ticket_id"])
    assert ticket.status == TicketStatus.open
    assert ticket.user_id == agent.user.id  # type: ignore[attr-defined]
    assert ticket.contact_id == setup["contact_id"]  # type: ignore[attr-defined]
    received = await _received(tenant, setup)
    assert [m["text"] for m in received] == ["Seu pedido chegou!"]

    await _runner(app).tick()  # nothing twice
    assert len(await _received(tenant, setup)) == 1
    # The agent sees the new ticket as theirs.
    mine = await tenant.client.get(f"/api/tickets/{ticket.id}", headers=agent.headers)
    assert mine.status_code == 200


async def test_due_message_goes_to_the_contacts_active_ticket(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    wrote = await tenant.client.post(
        f"/api/sandbox/{setup['connection_id']}/inbound",
        json={"from": setup["number"], "text": "oi"},
        headers=tenant.headers,
    )
    assert wrote.status_code == 200, wrote.text
    active = await Ticket.get(contact_id=setup["contact_id"], connection_id=setup["connection_id"])
    before = await _received(tenant, setup)  # the bot's greeting, if any

    created = await _schedule(tenant, tenant.admin, setup, clock, body="Lembrete")
    assert await _tick_after(app, clock, timedelta(hours=2)) == 1
    sent = await ScheduledMessage.get(id=created.json()["id"])
    assert sent.status == "sent"
    message = await Message.get(id=sent.message_id)
    assert message.ticket_id == active.id  # type: ignore[attr-defined]
    assert await Ticket.filter(contact_id=setup["contact_id"]).count() == 1
    after = await _received(tenant, setup)
    assert [m["text"] for m in after[len(before) :]] == ["Lembrete"]


async def test_two_runners_racing_send_each_message_once(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    ids = []
    for i in range(6):
        created = await _schedule(tenant, tenant.admin, setup, clock, body=f"msg {i}")
        assert created.status_code == 201
        ids.append(created.json()["id"])
    first = ScheduledRunner(clock=clock, channels=app.ctx.channels, batch=100)
    second = ScheduledRunner(clock=clock, channels=app.ctx.channels, batch=100)
    clock.advance(timedelta(hours=2))
    counts = await asyncio.gather(first.tick(), second.tick(), first.tick())
    clock.advance(timedelta(hours=-2))
    assert sum(counts) == 6
    rows = await ScheduledMessage.filter(id__in=ids)
    assert {r.status for r in rows} == {"sent"}
    assert len({r.message_id for r in rows}) == 6
    ticket_ids = await Message.filter(id__in=[r.message_id for r in rows]).values_list(
        "ticket_id", flat=True
    )
    assert len(set(ticket_ids)) == 1  # one new ticket, not one per runner
    texts = sorted(m["text"] for m in await _received(tenant, setup))
    assert texts == sorted(f"msg {i}" for i in range(6))


async def test_edit_and_cancel_while_pending_and_who_may(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    author = await tenant.member(Role.agent)
    colleague = await tenant.member(Role.agent)
    supervisor = await tenant.member(Role.supervisor)
    row = (await _schedule(tenant, author, setup, clock)).json()
    url = f"/api/scheduled-messages/{row['id']}"
    client = tenant.client

    # Everyone in the company sees the contact's scheduled messages.
    listed = await client.get(
        "/api/scheduled-messages",
        params={"contact_id": setup["contact_id"], "status": "pending"},
        headers=colleague.headers,
    )
    assert [r["id"] for r in listed.json()["items"]] == [row["id"]]

    refused = await client.patch(url, json={"body": "meu"}, headers=colleague.headers)
    assert refused.status_code == 403
    assert (await client.delete(url, headers=colleague.headers)).status_code == 403

    later = (clock() + timedelta(days=1)).isoformat()
    edited = await client.patch(
        url, json={"body": "Novo texto", "send_at": later}, headers=author.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["body"] == "Novo texto"
    by_supervisor = await client.patch(
        url, json={"body": "Texto final"}, headers=supervisor.headers
    )
    assert by_supervisor.status_code == 200
    past = await client.patch(
        url, json={"send_at": (clock() - timedelta(minutes=1)).isoformat()}, headers=author.headers
    )
    assert past.status_code == 422
    assert "send_at" in past.json()["error"]["fields"]

    await _tick_after(app, clock, timedelta(hours=2))  # the old time passed, not the new
    assert (await client.get(url, headers=author.headers)).json()["status"] == "pending"

    cancelled = await client.delete(url, headers=author.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.delete(url, headers=author.headers)).status_code == 409
    assert (await client.patch(url, json={"body": "x"}, headers=author.headers)).status_code == 409

    await _tick_after(app, clock, timedelta(days=2))
    assert (await client.get(url, headers=author.headers)).json()["status"] == "cancelled"
    assert await _received(tenant, setup) == []

    # Once sent, it can no longer change.
    sent_row = (await _schedule(tenant, author, setup, clock, body="vai")).json()
    await _tick_after(app, clock, timedelta(hours=2))
    sent_url = f"/api/scheduled-messages/{sent_row['id']}"
    assert (await client.get(sent_url, headers=author.headers)).json()["status"] == "sent"
    assert (await client.delete(sent_url, headers=supervisor.headers)).status_code == 409


async def test_bad_requests(tenant: Tenant, other_tenant: Tenant, clock: FakeClock) -> None:
    setup = await _setup(tenant)
    admin = tenant.admin
    past = await _schedule(
        tenant, admin, setup, clock, send_at=(clock() - timedelta(seconds=5)).isoformat()
    )
    assert past.status_code == 422
    assert "send_at" in past.json()["error"]["fields"]
    naive = await _schedule(tenant, admin, setup, clock, send_at="2099-01-01T10:00:00")
    assert naive.status_code == 422
    empty = await _schedule(tenant, admin, setup, clock, body="")
    assert empty.status_code == 422
    theirs = await _setup(other_tenant)
    foreign_contact = await _schedule(
        tenant, admin, {**setup, "contact_id": theirs["contact_id"]}, clock
    )
    assert foreign_contact.status_code == 422
    assert "contact_id" in foreign_contact.json()["error"]["fields"]
    foreign_conn = await _schedule(
        tenant, admin, {**setup, "connection_id": theirs["connection_id"]}, clock
    )
    assert foreign_conn.status_code == 422
    bad_file = await _schedule(
        tenant, admin, setup, clock, media={"filename": "a.png", "content_base64": "%%%"}
    )
    assert bad_file.status_code == 422

    row = (await _schedule(tenant, admin, setup, clock)).json()
    url = f"/api/scheduled-messages/{row['id']}"
    for method in ("GET", "PATCH", "DELETE"):
        response = await tenant.client.request(method, url, json={}, headers=other_tenant.headers)
        assert response.status_code == 404, (method, response.text)
    others = await tenant.client.get("/api/scheduled-messages", headers=other_tenant.headers)
    assert all(r["id"] != row["id"] for r in others.json()["items"])


async def test_connection_defaults_to_the_contacts_latest_ticket(
    tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    await tenant.client.post(
        f"/api/sandbox/{setup['connection_id']}/inbound",
        json={"from": setup["number"], "text": "oi"},
        headers=tenant.headers,
    )
    body = {
        "contact_id": setup["contact_id"],
        "body": "sem conexão escolhida",
        "send_at": (clock() + timedelta(hours=3)).isoformat(),
    }
    created = await tenant.client.post("/api/scheduled-messages", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    assert created.json()["connection_id"] == setup["connection_id"]


async def test_a_file_goes_with_its_caption(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    created = await _schedule(
        tenant,
        tenant.admin,
        setup,
        clock,
        body="a foto",
        media={"filename": "pic.png", "mime": "image/png", "content_base64": PNG},
    )
    assert created.status_code == 201, created.text
    assert created.json()["media_name"] == "pic.png"
    await _tick_after(app, clock, timedelta(hours=2))
    row = await ScheduledMessage.get(id=created.json()["id"])
    message = await Message.get(id=row.message_id)
    assert message.media_type == "image"
    assert message.media_name == "pic.png"
    [received] = await _received(tenant, setup)
    assert received["text"] == "a foto"
    assert received["media"] is not None


async def test_when_the_author_is_gone_the_new_ticket_waits_for_the_team(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    agent = await tenant.member(Role.agent)
    row = (await _schedule(tenant, agent, setup, clock, body="ainda vai")).json()
    await agent.user.delete()
    assert await _tick_after(app, clock, timedelta(hours=2)) == 1
    sent = await ScheduledMessage.get(id=row["id"])
    assert sent.status == "sent"
    message = await Message.get(id=sent.message_id)
    ticket = await Ticket.get(id=message.ticket_id)  # type: ignore[attr-defined]
    assert ticket.status == TicketStatus.pending
    assert ticket.user_id is None  # type: ignore[attr-defined]
    assert [m["text"] for m in await _received(tenant, setup)] == ["ainda vai"]


async def test_variables_are_filled_by_the_one_renderer(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    agent = await tenant.member(Role.agent)
    body = "{{greeting}}! Lembrete agendado para {{first_name}} ({{number}}){{custom.plano}}."
    created = await _schedule(tenant, agent, setup, clock, body=body)
    assert created.status_code == 201, created.text
    assert await _tick_after(app, clock, timedelta(hours=1, seconds=1)) == 1
    # The greeting on the company's clock (America/Sao_Paulo by default), not UTC's.
    at = clock() + timedelta(hours=1, seconds=1)
    greeting = greeting_at(at, zone=ZoneInfo("America/Sao_Paulo"), language="pt-BR")
    expected = f"{greeting}! Lembrete agendado para Maria ({setup['number']})."
    assert [m["text"] for m in await _received(tenant, setup)] == [expected]
    row = await ScheduledMessage.get(id=created.json()["id"])
    assert row.body == body  # the template is kept; the ticket message is what was sent
    assert (await Message.get(id=row.message_id)).body == expected  # type: ignore[arg-type]


async def test_unknown_variables_are_refused_in_the_users_language(
    tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(tenant)
    agent = await tenant.member(Role.agent)
    refused = await _schedule(tenant, agent, setup, clock, body="Oi {{primeiro_nome}}")
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["message"].startswith("Variável desconhecida: {{primeiro_nome}}")
    assert "{{primeiro_nome}}" in error["fields"]["body"]
    agent.user.language = "en"
    await agent.user.save(update_fields=["language"])
    created = await _schedule(tenant, agent, setup, clock, body="Oi {{first_name}}")
    assert created.status_code == 201, created.text
    changed = await tenant.client.patch(
        f"/api/scheduled-messages/{created.json()['id']}",
        json={"body": "Hi {{nome}}"},
        headers=agent.headers,
    )
    assert changed.status_code == 422, changed.text
    assert changed.json()["error"]["message"].startswith("Unknown variable: {{nome}}")
