"""A customer on a sandbox connection, driven through the HTTP API as a channel would be: what
they write, what the business sent them, and an accepted ticket's outbound statuses."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bot.sandbox import SandboxChannel
from service.tickets.models import Ticket
from tests.factories import Tenant, unique

# The customer of these helpers (Maria Silva), as written and as stored.
CUSTOMER = "+55 11 98888-7777"
NUMBER = "+5511988887777"


async def two_queue_sandbox(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """Suporte and Financeiro (keyword "boleto") on a sandbox connection that greets by first
    name: `{"connection_id": …, "queues": [suporte, financeiro]}`."""
    headers = tenant.headers
    suporte = await client.post(
        "/api/queues",
        json={"name": "Suporte", "greeting": "Você está no Suporte."},
        headers=headers,
    )
    financeiro = await client.post(
        "/api/queues",
        json={"name": "Financeiro", "greeting": "Financeiro aqui.", "keywords": ["boleto"]},
        headers=headers,
    )
    queue_ids = [suporte.json()["id"], financeiro.json()["id"]]
    connection = await client.post(
        "/api/connections",
        json={
            "name": unique("sandbox"),
            "channel": "sandbox",
            "greeting": "Olá {{first_name}}!",
            "queue_ids": queue_ids,
        },
        headers=headers,
    )
    assert connection.status_code == 201, connection.text
    return {"connection_id": connection.json()["id"], "queues": queue_ids}


async def customer_writes(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, text: str, **extra: Any
) -> httpx.Response:
    """The customer's message arrives on the connection; the answer of the sandbox's inbound
    route, unchecked (tests look at its status and body)."""
    body = {"from": CUSTOMER, "name": "Maria Silva", "text": text, **extra}
    return await client.post(
        f"/api/sandbox/{connection_id}/inbound", json=body, headers=tenant.headers
    )


async def sent_to_customer(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int
) -> list[str]:
    """Every text the business sent the customer on the connection, in order."""
    response = await client.get(
        f"/api/sandbox/{connection_id}/outbound", params={"to": NUMBER}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json()["items"]]


# An accepted ticket and its outbound statuses ------------------------------------------------


async def open_accepted_ticket(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> tuple[int, SandboxChannel]:
    """A ticket in Suporte the tenant's admin accepted, and the sandbox channel of its
    connection."""
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    for text in ("oi", "1"):
        response = await customer_writes(client, tenant, connection_id, text)
        assert response.status_code == 200, response.text
    ticket = await Ticket.filter(connection_id=connection_id).order_by("-id").first()
    assert ticket is not None
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    channel = app.ctx.channels.sessions.channel(connection_id)
    assert isinstance(channel, SandboxChannel)
    return ticket.id, channel


async def agent_says(client: httpx.AsyncClient, tenant: Tenant, ticket_id: int, text: str) -> Any:
    """The admin sends `text` on the ticket; the message as the API returns it."""
    response = await client.post(
        f"/api/tickets/{ticket_id}/messages", json={"text": text}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def outbound_statuses(
    client: httpx.AsyncClient, tenant: Tenant, ticket_id: int
) -> dict[str, Any]:
    """The ticket's outgoing messages by body."""
    response = await client.get(f"/api/tickets/{ticket_id}/messages", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {m["body"]: m for m in response.json()["items"] if m["direction"] == "out"}


async def until_status(
    client: httpx.AsyncClient, tenant: Tenant, ticket_id: int, body: str, status: str
) -> dict[str, Any]:
    """The message once it reached `status` (the receipt arrives in its own task)."""
    for _ in range(100):
        message: dict[str, Any] = (await outbound_statuses(client, tenant, ticket_id))[body]
        if message["status"] == status:
            return message
        await asyncio.sleep(0.01)
    raise AssertionError(f"{body!r} is {message['status']}, never {status}")
