"""Each ticket's history: written by the lifecycle in the change's transaction, read through
GET /api/tickets/{id}/history, and announced as `ticket.history`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from service.tickets.models import Ticket, TicketEvent, TicketStatus
from tests.factories import (
    FakeClock,
    PublishedEvents,
    Tenant,
    agent_in,
    log_in,
    make_queue,
    make_ticket,
)

URL = "/api/tickets"


async def _history(client: httpx.AsyncClient, ticket_id: int, headers: dict[str, str]) -> Any:
    response = await client.get(f"{URL}/{ticket_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


def _line(entry: dict[str, Any]) -> tuple[Any, ...]:
    """A line as the chat tells it: what, by whom, from and to where, the note."""
    named = [
        (entry[side] or {}).get("name")
        for side in ("from_queue", "to_queue", "from_user", "to_user")
    ]
    return (entry["kind"], entry["actor"]["kind"], entry["actor"]["name"], *named, entry["note"])


async def test_accept_transfer_with_a_note_close_and_reopen_leave_their_lines(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    suporte, financeiro = await make_queue(tenant), await make_queue(tenant)
    ana = await agent_in(tenant, suporte)
    ticket = await make_ticket(tenant, queue=suporte)
    path = f"{URL}/{ticket.id}"

    assert (await client.post(f"{path}/accept", headers=ana.headers)).status_code == 200
    moved = await client.post(
        f"{path}/transfer",
        headers=ana.headers,
        json={"queue_id": financeiro.id, "note": "cliente quer 2ª via"},
    )
    assert moved.status_code == 200, moved.text
    assert (await client.post(f"{path}/close", headers=tenant.headers)).status_code == 200
    assert (await client.post(f"{path}/reopen", headers=tenant.headers)).status_code == 200

    admin = tenant.admin.user.name
    lines = await _history(client, ticket.id, tenant.headers)
    assert [_line(entry) for entry in lines] == [
        ("accepted", "user", ana.user.name, None, suporte.name, None, ana.user.name, ""),
        (
            "transferred",
            "user",
            ana.user.name,
            suporte.name,
            financeiro.name,
            ana.user.name,
            None,
            "cliente quer 2ª via",
        ),
        ("closed", "user", admin, financeiro.name, None, None, None, ""),
        ("reopened", "user", admin, None, financeiro.name, None, admin, ""),
    ]
    assert [entry["id"] for entry in lines] == sorted(entry["id"] for entry in lines)
    # Each line was told live, as the API shows it, to who sees the ticket.
    told = [
        e for e in published_events.of_type("ticket.history") if e["data"]["ticket_id"] == ticket.id
    ]
    assert [e["data"] for e in told] == lines
    assert all(e["audience"]["company_id"] == tenant.company.id for e in told)


async def test_a_ticket_updated_carries_the_whole_ticket_and_who_saw_it_before(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    queue = await make_queue(tenant)
    ana = await agent_in(tenant, queue)
    ticket = await make_ticket(tenant, queue=queue)
    shown = (await client.post(f"{URL}/{ticket.id}/accept", headers=ana.headers)).json()
    updated = published_events.last("ticket.updated", id=ticket.id)
    assert updated["data"] == shown  # what GET /api/tickets/{id} gives: nothing to re-fetch
    assert updated["audience"]["was"]["status"] == "pending"
    assert updated["audience"]["user_id"] == ana.user.id


async def test_reopening_clears_the_rating(client: httpx.AsyncClient, tenant: Tenant) -> None:
    ticket = await make_ticket(tenant, status=TicketStatus.open, user=tenant.admin.user)
    await client.post(f"{URL}/{ticket.id}/close", headers=tenant.headers)
    await Ticket.filter(id=ticket.id).update(rating=4)  # the customer answered meanwhile
    reopened = await client.post(f"{URL}/{ticket.id}/reopen", headers=tenant.headers)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["rating"] is None


async def test_history_is_as_private_as_the_ticket(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    queue, elsewhere = await make_queue(tenant), await make_queue(tenant)
    outsider = await agent_in(tenant, elsewhere)
    ticket = await make_ticket(tenant, queue=queue)
    await client.post(f"{URL}/{ticket.id}/accept", headers=tenant.headers)
    for headers in (other_tenant.headers, outsider.headers):
        response = await client.get(f"{URL}/{ticket.id}/history", headers=headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert len(await _history(client, ticket.id, tenant.headers)) == 1


async def test_the_bot_and_the_timers_write_their_lines(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    queue = await make_queue(tenant)
    fallback = await make_queue(tenant)
    settings = {
        "unqueued_timeout_minutes": 10,
        "fallback_queue_id": fallback.id,
        "inactivity_close_minutes": 30,
    }
    response = await client.patch("/api/settings", json=settings, headers=tenant.headers)
    assert response.status_code == 200, response.text
    waiting = await make_ticket(tenant, queue=None)
    waiting.handed_off_at = clock()
    await waiting.save(update_fields=["handed_off_at"])
    talking = await make_ticket(tenant, status=TicketStatus.bot, queue=queue)
    talking.last_message_at = clock()
    await talking.save(update_fields=["last_message_at"])

    clock.advance(timedelta(minutes=31))
    done = await app.ctx.scheduler.run_due()
    assert done["unqueued_moved"] >= 1
    assert done["idle_closed"] >= 1
    again = await app.ctx.scheduler.run_due()  # a second pass changes nothing more
    assert await TicketEvent.filter(ticket_id__in=[waiting.id, talking.id]).count() == 2, again

    # Access tokens last 15 minutes of the (moved) clock.
    tenant.admin.token = (await log_in(client, tenant.admin.email)).json()["access_token"]
    moved = await _history(client, waiting.id, tenant.headers)
    assert [(e["kind"], e["actor"]["kind"], e["to_queue"]["name"], e["reason"]) for e in moved] == [
        ("fallback", "timer", fallback.name, "no_queue")
    ]
    closed = await _history(client, talking.id, tenant.headers)
    assert [(e["kind"], e["actor"]["kind"], e["reason"]) for e in closed] == [
        ("closed", "timer", "inactivity")
    ]
