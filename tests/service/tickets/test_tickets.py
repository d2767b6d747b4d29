"""Tickets: accept, transfer, close, reopen, messages, notes, read; the one-active-ticket
index; concurrent accepts; bad input. Tickets are made with the ORM (the inbound pipeline that
creates them comes later) and driven through the HTTP API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant, agent_in, make_queue, make_ticket, unique

URL = "/api/tickets"


def about(stamp: str, expected: datetime) -> bool:
    """Whether an API timestamp is the app clock's `expected` moment: the clock runs in real
    time (plus the test's offset), so the two are read a few milliseconds apart."""
    return abs(datetime.fromisoformat(stamp) - expected) < timedelta(seconds=1)


async def post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    return await client.post(f"{URL}{path}", json=body, headers=headers)


async def test_lifecycle_accept_reply_transfer_close_reopen(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    queue = await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    # Logged in before the clock moves: PyJWT refuses a token issued "in the future".
    colleague = await agent_in(tenant, queue)
    ticket = await make_ticket(tenant, queue=queue)

    response = await post(client, f"/{ticket.id}/accept", agent.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "open"
    assert body["user_id"] == agent.user.id
    assert body["queue_id"] == queue.id
    assert body["contact"]["id"] == ticket.contact_id  # type: ignore[attr-defined]
    accepted = clock()
    assert about(body["accepted_at"], accepted)

    clock.advance(timedelta(minutes=5))
    first = clock()
    response = await post(client, f"/{ticket.id}/messages", agent.headers, {"text": " Olá! "})
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["body"] == "Olá!"
    assert message["status"] == "pending"
    assert message["direction"] == "out"
    assert message["is_note"] is False
    assert message["sender_user_id"] == agent.user.id
    stored = await Message.get(id=message["id"])
    assert stored.status == MessageStatus.pending
    assert stored.direction == Direction.outbound

    clock.advance(timedelta(minutes=1))
    response = await post(client, f"/{ticket.id}/messages", agent.headers, {"text": "Tudo bem?"})
    assert response.status_code == 201
    detail = (await client.get(f"{URL}/{ticket.id}", headers=agent.headers)).json()
    # The first reply time is set once; the last message follows every reply.
    assert about(detail["first_agent_reply_at"], first)
    assert detail["last_message"] == "Tudo bem?"
    assert about(detail["last_message_at"], clock())

    # Transfer to another agent of the same queue: open, theirs.
    response = await post(
        client, f"/{ticket.id}/transfer", agent.headers, {"user_id": colleague.user.id}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "open"
    assert response.json()["user_id"] == colleague.user.id
    # The first agent no longer sees it.
    assert (await client.get(f"{URL}/{ticket.id}", headers=agent.headers)).status_code == 404

    # Transfer to another queue: pending there, unassigned.
    other_queue = await make_queue(tenant)
    response = await post(
        client, f"/{ticket.id}/transfer", colleague.headers, {"queue_id": other_queue.id}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["queue_id"] == other_queue.id
    assert response.json()["user_id"] is None

    response = await post(client, f"/{ticket.id}/close", tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    assert about(response.json()["closed_at"], clock())
    assert (await post(client, f"/{ticket.id}/close", tenant.headers)).status_code == 409
    assert (await post(client, f"/{ticket.id}/accept", tenant.headers)).status_code == 409
    response = await post(client, f"/{ticket.id}/messages", tenant.headers, {"text": "oi"})
    assert response.status_code == 409
    response = await post(client, f"/{ticket.id}/transfer", tenant.headers, {"queue_id": queue.id})
    assert response.status_code == 409

    response = await post(client, f"/{ticket.id}/reopen", tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "open"
    assert body["user_id"] == tenant.admin.user.id
    assert body["closed_at"] is None
    # The waiting time is the first wait: transfers and a reopen keep the first acceptance.
    assert about(body["accepted_at"], accepted)
    assert (await post(client, f"/{ticket.id}/reopen", tenant.headers)).status_code == 409


async def test_messages_notes_and_read(client: httpx.AsyncClient, tenant: Tenant) -> None:
    ticket = await make_ticket(tenant, status=TicketStatus.open, user=tenant.admin.user)
    response = await post(
        client, f"/{ticket.id}/messages", tenant.headers, {"text": "para o cliente"}
    )
    assert response.status_code == 201
    response = await post(client, f"/{ticket.id}/notes", tenant.headers, {"text": "interno"})
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["is_note"] is True
    assert note["body"] == "interno"
    # A note is never handed to the sender: it is not pending.
    assert note["status"] != "pending"

    detail = (await client.get(f"{URL}/{ticket.id}", headers=tenant.headers)).json()
    assert detail["last_message"] == "para o cliente"  # a note is not the last message
    assert detail["unread_count"] == 3
    response = await post(client, f"/{ticket.id}/read", tenant.headers)
    assert response.status_code == 200
    assert response.json()["unread_count"] == 0

    for i in range(3):
        await post(client, f"/{ticket.id}/messages", tenant.headers, {"text": f"m{i}"})
    page = await client.get(f"{URL}/{ticket.id}/messages?limit=2", headers=tenant.headers)
    assert page.status_code == 200
    assert [m["body"] for m in page.json()["items"]] == ["m2", "m1"]
    rest = await client.get(
        f"{URL}/{ticket.id}/messages",
        params={"limit": 10, "cursor": page.json()["next_cursor"]},
        headers=tenant.headers,
    )
    assert [m["body"] for m in rest.json()["items"]] == ["m0", "interno", "para o cliente"]
    assert [m["is_note"] for m in rest.json()["items"]] == [False, True, False]
    assert rest.json()["next_cursor"] is None

    # Notes may be added on a closed ticket; messages may not.
    await post(client, f"/{ticket.id}/close", tenant.headers)
    assert (
        await post(client, f"/{ticket.id}/notes", tenant.headers, {"text": "x"})
    ).status_code == 201


async def test_concurrent_accepts_one_wins(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(tenant)
    agents = [await agent_in(tenant, queue) for _ in range(4)]
    for _ in range(3):
        ticket = await make_ticket(tenant, queue=queue)
        responses = await asyncio.gather(
            *(post(client, f"/{ticket.id}/accept", agent.headers) for agent in agents)
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409, 409, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()["user_id"]
        await ticket.refresh_from_db()
        assert ticket.status == TicketStatus.open
        assert ticket.user_id == winner  # type: ignore[attr-defined]


async def test_accept_rules(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue, other_queue = await make_queue(tenant), await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    supervisor = await tenant.member(Role.supervisor)
    # Not pending: 409.
    for status in (TicketStatus.bot, TicketStatus.open, TicketStatus.closed):
        ticket = await make_ticket(tenant, queue=queue, status=status, user=agent.user)
        assert (await post(client, f"/{ticket.id}/accept", agent.headers)).status_code == 409
    # Another queue's ticket: the agent does not even see it; a supervisor takes it.
    ticket = await make_ticket(tenant, queue=other_queue)
    assert (await post(client, f"/{ticket.id}/accept", agent.headers)).status_code == 404
    response = await post(client, f"/{ticket.id}/accept", supervisor.headers)
    assert response.status_code == 200
    assert response.json()["user_id"] == supervisor.user.id
    # A ticket without a queue: admins only.
    ticket = await make_ticket(tenant)
    assert (await post(client, f"/{ticket.id}/accept", agent.headers)).status_code == 404
    assert (await post(client, f"/{ticket.id}/accept", tenant.headers)).status_code == 200


async def test_transfer_rules(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    queue, other_queue = await make_queue(tenant), await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    outsider = await tenant.member(Role.agent)  # in no queue
    ticket = await make_ticket(tenant, queue=queue, status=TicketStatus.open, user=agent.user)
    path = f"/{ticket.id}/transfer"

    async def transfer(body: Any) -> httpx.Response:
        return await post(client, path, tenant.headers, body)

    response = await transfer({})
    assert response.status_code == 422
    assert "queue_id" in response.json()["error"]["fields"]
    response = await transfer({"user_id": outsider.user.id})
    assert response.status_code == 422
    assert "user_id" in response.json()["error"]["fields"]
    # To an agent of another queue together with that queue: fine only if they belong to it.
    response = await transfer({"queue_id": other_queue.id, "user_id": agent.user.id})
    assert response.status_code == 422
    assert "user_id" in response.json()["error"]["fields"]
    foreign_queue = await Queue.create(company=other_tenant.company, name=unique("queue"))
    response = await transfer({"queue_id": foreign_queue.id})
    assert response.status_code == 422
    assert "queue_id" in response.json()["error"]["fields"]
    response = await transfer({"user_id": other_tenant.admin.user.id})
    assert response.status_code == 422
    assert "user_id" in response.json()["error"]["fields"]
    for bad in ({"queue_id": 0}, {"queue_id": "x"}, {"user_id": 2**40}, {"queue": 1}):
        assert (await transfer(bad)).status_code == 422, bad
    # Nothing changed.
    await ticket.refresh_from_db()
    assert ticket.status == TicketStatus.open
    assert (ticket.queue_id, ticket.user_id) == (queue.id, agent.user.id)  # type: ignore[attr-defined]

    # A bot ticket without a queue, transferred by an admin: handed off now, pending in the queue.
    bot_ticket = await make_ticket(tenant, status=TicketStatus.bot)
    response = await post(
        client, f"/{bot_ticket.id}/transfer", tenant.headers, {"queue_id": queue.id}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["handed_off_at"]
    # Queue-less ticket to any user of the company.
    lone = await make_ticket(tenant, status=TicketStatus.pending)
    response = await post(
        client, f"/{lone.id}/transfer", tenant.headers, {"user_id": outsider.user.id}
    )
    assert response.status_code == 200
    assert response.json()["user_id"] == outsider.user.id
    # ... who then sees it and may write on it.
    assert (await client.get(f"{URL}/{lone.id}", headers=outsider.headers)).status_code == 200
    response = await post(client, f"/{lone.id}/messages", outsider.headers, {"text": "oi"})
    assert response.status_code == 201


async def test_agent_writes_only_on_own_open_ticket(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    ticket = await make_ticket(tenant, queue=queue)
    response = await post(client, f"/{ticket.id}/messages", agent.headers, {"text": "oi"})
    assert response.status_code == 409  # accept first
    assert await Message.filter(ticket_id=ticket.id).count() == 0
    # Admins and supervisors may write on an active ticket that is not theirs.
    supervisor = await tenant.member(Role.supervisor)
    response = await post(client, f"/{ticket.id}/messages", supervisor.headers, {"text": "oi"})
    assert response.status_code == 201
    # Notes are fine for anyone who sees the ticket.
    response = await post(client, f"/{ticket.id}/notes", agent.headers, {"text": "vejo"})
    assert response.status_code == 201


async def test_reopen_conflicts_with_another_active_ticket(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    old = await make_ticket(tenant, status=TicketStatus.closed)
    contact = await Contact.get(id=old.contact_id)  # type: ignore[attr-defined]
    connection = await Connection.get(id=old.connection_id)  # type: ignore[attr-defined]
    new = await make_ticket(tenant, contact=contact, connection=connection)
    response = await post(client, f"/{old.id}/reopen", tenant.headers)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["fields"] == {"ticket_id": str(new.id)}
    await old.refresh_from_db()
    assert old.status == TicketStatus.closed
    # Once the new one is closed, the old one may be reopened.
    assert (await post(client, f"/{new.id}/close", tenant.headers)).status_code == 200
    assert (await post(client, f"/{old.id}/reopen", tenant.headers)).status_code == 200


async def test_one_active_ticket_per_contact_and_connection(tenant: Tenant) -> None:
    first = await make_ticket(tenant, status=TicketStatus.bot)
    contact = await Contact.get(id=first.contact_id)  # type: ignore[attr-defined]
    connection = await Connection.get(id=first.connection_id)  # type: ignore[attr-defined]
    for status in (TicketStatus.bot, TicketStatus.pending, TicketStatus.open):
        with pytest.raises(IntegrityError):
            async with in_transaction():
                await Ticket.create(
                    company=tenant.company, contact=contact, connection=connection, status=status
                )
    # Closed tickets do not count: many closed, plus one active.
    first.status = TicketStatus.closed
    await first.save()
    await Ticket.create(
        company=tenant.company, contact=contact, connection=connection, status=TicketStatus.closed
    )
    await Ticket.create(
        company=tenant.company, contact=contact, connection=connection, status=TicketStatus.open
    )
    # The same contact on another connection has its own active ticket.
    other_connection = await Connection.create(company=tenant.company, name=unique("conn"))
    await Ticket.create(
        company=tenant.company,
        contact=contact,
        connection=other_connection,
        status=TicketStatus.bot,
    )
    active = await Ticket.filter(contact=contact, status__in=["bot", "pending", "open"]).count()
    assert active == 2


async def test_list_filters_and_pagination(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue, other_queue = await make_queue(tenant), await make_queue(tenant)
    pending = await make_ticket(tenant, queue=queue, name="Maria Souza", number="+5511987650001")
    mine = await make_ticket(
        tenant, queue=other_queue, status=TicketStatus.open, user=tenant.admin.user
    )
    bot = await make_ticket(tenant, status=TicketStatus.bot)
    closed = await make_ticket(tenant, queue=queue, status=TicketStatus.closed)

    async def ids(**params: Any) -> list[int]:
        response = await client.get(URL, params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert await ids() == [closed.id, bot.id, mine.id, pending.id]
    assert await ids(status="pending") == [pending.id]
    assert await ids(status="bot") == [bot.id]
    assert await ids(queue_id=queue.id) == [closed.id, pending.id]
    assert await ids(assigned="me") == [mine.id]
    assert await ids(q="maria sou") == [pending.id]
    assert await ids(q="98765-0001") == [pending.id]
    assert await ids(q="nobody-like-this") == []

    first = await client.get(URL, params={"limit": 3}, headers=tenant.headers)
    assert [t["id"] for t in first.json()["items"]] == [closed.id, bot.id, mine.id]
    second = await client.get(
        URL, params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=tenant.headers
    )
    assert [t["id"] for t in second.json()["items"]] == [pending.id]
    assert second.json()["next_cursor"] is None

    for bad in (
        {"status": "waiting"},
        {"queue_id": "abc"},
        {"assigned": "you"},
        {"limit": 0},
        {"cursor": "garbage"},
        {"q": "x" * 201},
        {"nope": 1},
    ):
        response = await client.get(URL, params=bad, headers=tenant.headers)
        assert response.status_code == 422, bad


async def test_bad_input(client: httpx.AsyncClient, tenant: Tenant) -> None:
    ticket = await make_ticket(tenant, status=TicketStatus.open, user=tenant.admin.user)
    for path in ("messages", "notes"):
        for bad in (
            {},
            {"text": ""},
            {"text": "   "},
            {"text": "x" * 4097},
            {"text": 5},
            {"text": "a\x00b"},
            {"text": "ok", "extra": 1},
        ):
            response = await post(client, f"/{ticket.id}/{path}", tenant.headers, bad)
            assert response.status_code == 422, (path, bad, response.text)
        response = await client.post(
            f"{URL}/{ticket.id}/{path}", content=b"{not json", headers=tenant.headers
        )
        assert response.status_code == 400
    assert (
        await post(client, f"/{ticket.id}/messages", tenant.headers, {"text": "x" * 4096})
    ).status_code == 201
    assert await Message.filter(ticket_id=ticket.id).count() == 1
    # Unknown or out-of-range ids are 404, whatever the body.
    for ticket_id in (0, 999_999_999, 2**40):
        assert (await client.get(f"{URL}/{ticket_id}", headers=tenant.headers)).status_code == 404
        response = await post(client, f"/{ticket_id}/messages", tenant.headers, {"bad": 1})
        assert response.status_code == 404
    assert (await client.get(URL)).status_code == 401


async def test_api_token_acts_as_admin_but_takes_no_ticket(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post("/api/api-tokens", json={"name": "crm"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    ticket = await make_ticket(tenant)
    assert (await client.get(f"{URL}/{ticket.id}", headers=headers)).status_code == 200
    assert (await post(client, f"/{ticket.id}/accept", headers)).status_code == 403
    response = await post(client, f"/{ticket.id}/messages", headers, {"text": "from the CRM"})
    assert response.status_code == 201
    assert response.json()["sender_user_id"] is None
    assert (await client.get(URL, params={"assigned": "me"}, headers=headers)).json()["items"] == []
