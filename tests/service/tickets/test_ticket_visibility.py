"""Who sees which ticket: agents their queues' pending tickets and their own; supervisors and
admins the whole company; nobody another company's. A ticket one may not see is a 404 on
every route, and stays unchanged."""

from __future__ import annotations

from typing import Any

import httpx

from service.tickets.models import Message, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import Tenant, agent_in, make_queue, make_ticket

URL = "/api/tickets"

# Every route that takes a ticket id, with a valid body where it needs one.
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "", None),
    ("GET", "/messages", None),
    ("POST", "/accept", None),
    ("POST", "/transfer", {"queue_id": 1}),
    ("POST", "/close", None),
    ("POST", "/reopen", None),
    ("POST", "/read", None),
    ("POST", "/messages", {"text": "oi"}),
    ("POST", "/notes", {"text": "oi"}),
]


async def assert_hidden(client: httpx.AsyncClient, ticket: Ticket, headers: dict[str, str]) -> None:
    """Every route answers 404 for this ticket, and nothing about it changes."""
    before = await Ticket.get(id=ticket.id).values()
    messages = await Message.filter(ticket_id=ticket.id).count()
    for method, suffix, body in ROUTES:
        response = await client.request(
            method, f"{URL}/{ticket.id}{suffix}", json=body, headers=headers
        )
        assert response.status_code == 404, (method, suffix, response.text)
        # A bad body changes nothing: the ticket is looked up first.
        if body is not None:
            response = await client.request(
                method, f"{URL}/{ticket.id}{suffix}", json={"bad": 1}, headers=headers
            )
            assert response.status_code == 404, (method, suffix, response.text)
    assert await Ticket.get(id=ticket.id).values() == before
    assert await Message.filter(ticket_id=ticket.id).count() == messages


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[int]:
    response = await client.get(URL, params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {t["id"] for t in response.json()["items"]}


async def test_agent_sees_own_queues_pending_and_own_tickets(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue_a, queue_b = await make_queue(tenant), await make_queue(tenant)
    agent = await agent_in(tenant, queue_a)
    colleague = await agent_in(tenant, queue_a)

    pending_a = await make_ticket(tenant, queue=queue_a)
    mine_open = await make_ticket(tenant, queue=queue_a, status=TicketStatus.open, user=agent.user)
    mine_closed = await make_ticket(
        tenant, queue=queue_a, status=TicketStatus.closed, user=agent.user
    )
    pending_b = await make_ticket(tenant, queue=queue_b)
    colleagues_open = await make_ticket(
        tenant, queue=queue_a, status=TicketStatus.open, user=colleague.user
    )
    colleagues_closed = await make_ticket(
        tenant, queue=queue_a, status=TicketStatus.closed, user=colleague.user
    )
    bot_a = await make_ticket(tenant, queue=queue_a, status=TicketStatus.bot)
    no_queue = await make_ticket(tenant)

    visible = {pending_a.id, mine_open.id, mine_closed.id}
    assert await listed(client, agent.headers) == visible
    assert await listed(client, agent.headers, status="pending") == {pending_a.id}
    assert await listed(client, agent.headers, queue_id=queue_b.id) == set()
    assert await listed(client, agent.headers, assigned="me") == {mine_open.id, mine_closed.id}
    for ticket in visible:
        response = await client.get(f"{URL}/{ticket}", headers=agent.headers)
        assert response.status_code == 200
        response = await client.get(f"{URL}/{ticket}/messages", headers=agent.headers)
        assert response.status_code == 200

    for hidden in (pending_b, colleagues_open, colleagues_closed, bot_a, no_queue):
        response = await client.get(f"{URL}/{hidden.id}", headers=agent.headers)
        assert response.status_code == 404, hidden.status
        for method, suffix, body in ROUTES:
            if suffix == "/accept" and hidden.queue_id == queue_a.id:  # type: ignore[attr-defined]
                continue  # a colleague's ticket of one's own queue: 409 "taken", see below
            response = await client.request(
                method, f"{URL}/{hidden.id}{suffix}", json=body, headers=agent.headers
            )
            assert response.status_code == 404, (hidden.status, method, suffix)
    # Accepting a ticket of one's queue that a colleague already took says so.
    response = await client.post(f"{URL}/{colleagues_open.id}/accept", headers=agent.headers)
    assert response.status_code == 409
    await colleagues_open.refresh_from_db()
    assert colleagues_open.user_id == colleague.user.id  # type: ignore[attr-defined]

    # Leaving the queue hides its pending tickets at once.
    await agent.user.queues.remove(queue_a)
    assert await listed(client, agent.headers) == {mine_open.id, mine_closed.id}


async def test_supervisors_and_admins_see_the_whole_company(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    supervisor = await tenant.member(Role.supervisor)  # in no queue
    tickets = {
        (await make_ticket(tenant, queue=queue)).id,
        (await make_ticket(tenant, queue=queue, status=TicketStatus.open, user=agent.user)).id,
        (await make_ticket(tenant, status=TicketStatus.bot)).id,
        (await make_ticket(tenant)).id,
        (await make_ticket(tenant, status=TicketStatus.closed)).id,
    }
    for headers in (supervisor.headers, tenant.headers):
        assert await listed(client, headers) == tickets
        for ticket_id in tickets:
            response = await client.get(f"{URL}/{ticket_id}", headers=headers)
            assert response.status_code == 200


async def test_another_company_gets_404_everywhere(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    statuses = (TicketStatus.bot, TicketStatus.pending, TicketStatus.open, TicketStatus.closed)
    tickets = [
        await make_ticket(tenant, queue=queue, status=status, user=tenant.admin.user)
        for status in statuses
    ]
    outsider_supervisor = await other_tenant.member(Role.supervisor)
    for ticket in tickets:
        await assert_hidden(client, ticket, other_tenant.headers)
        await assert_hidden(client, ticket, outsider_supervisor.headers)
    assert not (await listed(client, other_tenant.headers)) & {t.id for t in tickets}
    # Filtering by the other company's queue finds nothing either.
    assert await listed(client, other_tenant.headers, queue_id=queue.id) == set()


async def test_hidden_ticket_stays_unchanged_for_an_agent(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue_a, queue_b = await make_queue(tenant), await make_queue(tenant)
    agent = await agent_in(tenant, queue_a)
    ticket = await make_ticket(tenant, queue=queue_b)
    await assert_hidden(client, ticket, agent.headers)


async def test_pending_tickets_without_a_queue_are_shown_to_the_fallback_queues_agents(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    from service.auth.tokens import Principal
    from service.realtime.hub import may_see
    from service.tickets.audience import ticket_audience
    from service.tickets.service import agent_queue_ids

    fallback, other = await make_queue(tenant), await make_queue(tenant)
    fallback_agent = await agent_in(tenant, fallback)
    other_agent = await agent_in(tenant, other)
    patched = await client.patch(
        "/api/settings", json={"fallback_queue_id": fallback.id}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    no_queue = await make_ticket(tenant)
    assert no_queue.id in await listed(client, fallback_agent.headers, status="pending")
    assert no_queue.id not in await listed(client, other_agent.headers)
    await assert_hidden(client, no_queue, other_agent.headers)
    # Live updates match the list: the hub judges the ticket's events the same way.
    for member, sees in ((fallback_agent, True), (other_agent, False)):
        principal = Principal(company_id=tenant.company.id, role=Role.agent, user_id=member.user.id)
        queue_ids = await agent_queue_ids(principal)
        assert may_see(principal, queue_ids, ticket_audience(no_queue)) is sees
    accepted = await client.post(f"{URL}/{no_queue.id}/accept", headers=fallback_agent.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user_id"] == fallback_agent.user.id
