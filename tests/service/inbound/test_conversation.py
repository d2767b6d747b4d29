"""Conversations end to end through the sandbox API: a customer writes, the bot triages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.channel import InboundMessage
from service.tickets.models import Ticket, TicketStatus
from service.users.models import Role
from tests.factories import Tenant, unique
from tests.helpers.sandbox import customer_writes, sent_to_customer, two_queue_sandbox


async def test_first_message_greets_and_shows_the_menu_then_a_number_chooses(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await two_queue_sandbox(client, tenant)
    connection_id = setup["connection_id"]
    response = await customer_writes(client, tenant, connection_id, "oi")
    assert response.status_code == 200, response.text
    received = await sent_to_customer(client, tenant, connection_id)
    assert any("Olá Maria!" in text for text in received)
    menu = "\n".join(received)
    assert "1 - Suporte" in menu
    assert "2 - Financeiro" in menu
    await customer_writes(client, tenant, connection_id, "2")
    received = await sent_to_customer(client, tenant, connection_id)
    assert "Financeiro aqui." in "\n".join(received)
    ticket = await Ticket.get(connection_id=connection_id)
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == setup["queues"][1]  # type: ignore[attr-defined]


async def test_the_same_delivery_twice_is_one_message(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    first = await customer_writes(client, tenant, connection_id, "oi", id="wamid-1")
    again = await customer_writes(client, tenant, connection_id, "oi", id="wamid-1")
    assert first.json()["duplicate"] is False
    assert again.json() == {"message_id": first.json()["message_id"], "duplicate": True}
    replies = await sent_to_customer(client, tenant, connection_id)
    assert len(replies) == len(set(replies))


async def test_200_customers_at_once_each_get_their_replies_in_order(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await two_queue_sandbox(client, tenant)
    connection_id = setup["connection_id"]
    numbers = [f"+55119{70000000 + i:08d}" for i in range(200)]

    async def customer(number: str) -> None:
        for text in ("oi", "1"):
            body = {"from": number, "name": "Cliente", "text": text}
            response = await client.post(
                f"/api/sandbox/{connection_id}/inbound", json=body, headers=tenant.headers
            )
            assert response.status_code == 200, response.text

    await asyncio.gather(*(customer(number) for number in numbers))
    tickets = await Ticket.filter(connection_id=connection_id)
    assert len(tickets) == 200  # one ticket per customer, no duplicates
    assert {t.status for t in tickets} == {TicketStatus.pending}
    assert {t.queue_id for t in tickets} == {setup["queues"][0]}  # type: ignore[attr-defined]
    for number in numbers[::37]:
        response = await client.get(
            f"/api/sandbox/{connection_id}/outbound", params={"to": number}, headers=tenant.headers
        )
        texts = [item["text"] for item in response.json()["items"]]
        assert texts[0] == "Olá Cliente!"
        assert "1 - Suporte" in texts[1]
        assert texts[2] == "Você está no Suporte."
        assert len(texts) == 3


async def test_a_crash_between_persisting_and_processing_is_repaired_on_restart(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    pipeline = app.ctx.channels.pipeline
    inbound = InboundMessage(
        connection_id=connection_id,
        channel_message_id=unique("crash"),
        sender="+5511988887777",
        push_name="Maria Silva",
        text="oi",
        timestamp=datetime.now(UTC),
    )
    stored = await pipeline.persist(inbound)  # ...and the process dies here
    assert stored is not None
    assert await sent_to_customer(client, tenant, connection_id) == []
    await pipeline.recover()  # the next start
    replies = await sent_to_customer(client, tenant, connection_id)
    assert replies[0] == "Olá Maria!"
    await pipeline.recover()  # nothing left to do: no reply is sent twice
    assert await sent_to_customer(client, tenant, connection_id) == replies
    assert await pipeline.persist(inbound) is None  # and a redelivery is still one message


async def test_triage_accept_reply_close_and_rate(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await two_queue_sandbox(client, tenant)
    connection_id, suporte = setup["connection_id"], setup["queues"][0]
    agent = await tenant.member(Role.agent)
    joined = await client.patch(
        f"/api/users/{agent.user.id}", json={"queue_ids": [suporte]}, headers=tenant.headers
    )
    assert joined.status_code == 200, joined.text

    await customer_writes(client, tenant, connection_id, "oi")
    await customer_writes(client, tenant, connection_id, "suporte")
    waiting = await client.get(
        "/api/tickets", params={"status": "pending", "queue_id": suporte}, headers=agent.headers
    )
    [ticket] = waiting.json()["items"]
    assert ticket["contact"]["number"] == "+5511988887777"

    accepted = await client.post(f"/api/tickets/{ticket['id']}/accept", headers=agent.headers)
    assert accepted.json()["status"] == "open"
    reply = await client.post(
        f"/api/tickets/{ticket['id']}/messages",
        json={"text": "Olá Maria, em que posso ajudar?"},
        headers=agent.headers,
    )
    assert reply.status_code == 201, reply.text
    await customer_writes(
        client, tenant, connection_id, "minha internet caiu"
    )  # the bot stays silent
    note = await client.post(
        f"/api/tickets/{ticket['id']}/notes", json={"text": "cliente VIP"}, headers=agent.headers
    )
    assert note.status_code == 201
    closed = await client.post(f"/api/tickets/{ticket['id']}/close", headers=agent.headers)
    assert closed.json()["status"] == "closed"
    await customer_writes(client, tenant, connection_id, "5")

    received = await sent_to_customer(client, tenant, connection_id)
    assert received[-3] == "Olá Maria, em que posso ajudar?"
    assert received[-2] == (
        f"Seu atendimento com {agent.user.name} foi encerrado. "
        "De 1 a 5, qual nota você dá para o atendimento?"
    )
    assert received[-1] == "Obrigado pela sua avaliação, Maria!"
    assert "cliente VIP" not in "\n".join(received)  # notes are never sent
    rated = await Ticket.get(id=ticket["id"])
    assert rated.rating == 5
    assert rated.status is TicketStatus.closed
    assert await Ticket.filter(connection_id=connection_id).count() == 1  # the rating opened none
    messages = await client.get(f"/api/tickets/{ticket['id']}/messages", headers=agent.headers)
    statuses = {m["body"]: m["status"] for m in messages.json()["items"]}
    assert statuses["Olá Maria, em que posso ajudar?"] in ("sent", "delivered")
