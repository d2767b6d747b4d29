"""Timers: the rating question lapses, idle bot tickets close, unqueued tickets move."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from service.tickets.models import Ticket, TicketStatus
from tests.factories import FakeClock, Tenant, log_in, unique
from tests.helpers.sandbox import customer_writes, sent_to_customer, two_queue_sandbox


async def _settings(client: httpx.AsyncClient, tenant: Tenant, **values: Any) -> None:
    response = await client.patch("/api/settings", json=values, headers=tenant.headers)
    assert response.status_code == 200, response.text


async def _log_in_again(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """Access tokens last 15 minutes of the (moved) clock."""
    response = await log_in(client, tenant.admin.email)
    tenant.admin.token = response.json()["access_token"]


async def test_idle_bot_tickets_close_after_the_company_inactivity(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    await _settings(client, tenant, inactivity_close_minutes=10)
    await customer_writes(client, tenant, connection_id, "oi")
    clock.advance(timedelta(minutes=9))
    await app.ctx.scheduler.run_due()
    ticket = await Ticket.get(connection_id=connection_id)
    assert ticket.status is TicketStatus.bot
    clock.advance(timedelta(minutes=2))
    await app.ctx.scheduler.run_due()
    await ticket.refresh_from_db()
    assert ticket.status is TicketStatus.closed
    response = await customer_writes(
        client, tenant, connection_id, "oi de novo"
    )  # a new conversation
    assert response.status_code == 200, response.text
    assert await Ticket.filter(connection_id=connection_id).count() == 2


async def test_the_rating_question_lapses_after_its_timeout(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    await _settings(client, tenant, csat_timeout_minutes=30)
    await customer_writes(client, tenant, connection_id, "oi")
    await customer_writes(client, tenant, connection_id, "1")
    ticket = await Ticket.get(connection_id=connection_id)
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    await client.post(f"/api/tickets/{ticket.id}/close", headers=tenant.headers)
    await ticket.refresh_from_db()
    assert ticket.flow_state["awaiting_rating"] is True
    clock.advance(timedelta(minutes=31))
    await _log_in_again(client, tenant)
    await app.ctx.scheduler.run_due()
    await ticket.refresh_from_db()
    assert ticket.flow_state["awaiting_rating"] is False
    await customer_writes(client, tenant, connection_id, "5")  # too late: a new conversation
    await ticket.refresh_from_db()
    assert ticket.rating is None
    assert await Ticket.filter(connection_id=connection_id).count() == 2


async def test_tickets_waiting_without_a_queue_move_to_the_fallback_queue(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    headers = tenant.headers
    fallback = (await client.post("/api/queues", json={"name": "Geral"}, headers=headers)).json()
    connection = await client.post(
        "/api/connections", json={"name": unique("noqueue"), "channel": "sandbox"}, headers=headers
    )
    connection_id = connection.json()["id"]
    # Handed off while the company had no fallback queue (a handoff finds it when there is
    # one): the ticket waits without a queue until the timer moves it.
    await customer_writes(client, tenant, connection_id, "oi")
    ticket = await Ticket.get(connection_id=connection_id)
    assert (ticket.status, ticket.queue_id) == (TicketStatus.pending, None)  # type: ignore[attr-defined]
    await _settings(client, tenant, fallback_queue_id=fallback["id"], unqueued_timeout_minutes=15)
    clock.advance(timedelta(minutes=16))
    await _log_in_again(client, tenant)
    await app.ctx.scheduler.run_due()
    await ticket.refresh_from_db()
    assert ticket.queue_id == fallback["id"]  # type: ignore[attr-defined]
    assert await sent_to_customer(client, tenant, connection_id) is not None
