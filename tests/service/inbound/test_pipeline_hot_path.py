"""The inbound pipeline's hot path: `ticket.created` for each ticket it opens, a cached bot
that still follows every admin change at once, and redeliveries that change nothing."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import httpx
from sanic import Sanic

from bot.channel import InboundMessage, Receipt
from service.inbound import Pipeline
from service.tickets.models import Message, MessageStatus, Ticket, TicketStatus
from tests.factories import Tenant, agent_in, unique
from tests.helpers.realtime import feed
from tests.helpers.sandbox import customer_writes, sent_to_customer, two_queue_sandbox

GROUP = "120363025246125244@g.us"


async def test_a_new_conversation_announces_its_ticket_once_as_the_api_shows_it(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    async with feed(app, tenant.admin.token) as admin:
        sent = await customer_writes(client, tenant, connection_id, "oi")
        assert sent.status_code in (200, 201, 202), sent.text
        events = await admin.until("message.created", direction="in")
        await customer_writes(client, tenant, connection_id, "1")
        later = await admin.until("ticket.updated")
    created = [e for e in events if e["type"] == "ticket.created"]
    assert len(created) == 1
    # Announced before anything about its messages, so the inbox knows the ticket first.
    assert events.index(created[0]) < events.index(events[-1])
    ticket = created[0]["data"]
    shown = await client.get(f"/api/tickets/{ticket['id']}", headers=tenant.headers)
    assert shown.status_code == 200, shown.text
    assert ticket["contact"] == shown.json()["contact"]
    assert ticket["contact"]["name"] == "Maria Silva"
    assert ticket["status"] == "bot"
    assert set(ticket) == set(shown.json())
    assert created[0]["id"]
    assert not [e for e in later if e["type"] == "ticket.created"]  # the same ticket


async def test_a_bot_ticket_is_announced_to_admins_not_to_agents(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await two_queue_sandbox(client, tenant)
    agent = await agent_in(tenant, await _queue_row(setup["queues"][0]))
    async with feed(app, tenant.admin.token) as admin, feed(app, agent.token) as theirs:
        await customer_writes(client, tenant, setup["connection_id"], "oi")
        seen = await admin.drain(app.ctx.broker, tenant.company.id)
        heard = await theirs.drain(app.ctx.broker, tenant.company.id)
    assert [e["type"] for e in seen].count("ticket.created") == 1
    assert not [e for e in heard if e["type"] == "ticket.created"]


async def test_a_group_ticket_is_announced_pending_without_a_queue(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    groups = await client.patch(
        f"/api/connections/{connection_id}", json={"groups_enabled": True}, headers=tenant.headers
    )
    assert groups.status_code == 200, groups.text
    async with feed(app, tenant.admin.token) as admin:
        sent = await customer_writes(client, tenant, connection_id, "oi pessoal", group=GROUP)
        assert sent.status_code in (200, 201, 202), sent.text
        events = await admin.until("ticket.created")
    ticket = events[-1]["data"]
    assert ticket["status"] == "pending"
    assert ticket["queue_id"] is None
    assert ticket["contact"]["number"] == GROUP


async def test_the_cached_bot_follows_admin_changes_at_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await two_queue_sandbox(client, tenant)
    connection_id, suporte = setup["connection_id"], setup["queues"][0]
    await customer_writes(client, tenant, connection_id, "oi")  # the bot is cached from here on
    renamed = await client.patch(
        f"/api/queues/{suporte}", json={"greeting": "Suporte novo."}, headers=tenant.headers
    )
    assert renamed.status_code == 200, renamed.text
    await customer_writes(client, tenant, connection_id, "1")
    assert (await sent_to_customer(client, tenant, connection_id))[-1] == "Suporte novo."

    # A company setting: the texts the bot says.
    texts = await client.patch(
        "/api/settings", json={"bot_texts": {"menu_header": "Escolha:"}}, headers=tenant.headers
    )
    assert texts.status_code == 200, texts.text
    await _close_all(connection_id)
    await customer_writes(client, tenant, connection_id, "oi")
    assert (await sent_to_customer(client, tenant, connection_id))[-1].startswith("Escolha:")

    # A connection's own text, and its queue links, saved with the connection row.
    changed = await client.patch(
        f"/api/connections/{connection_id}",
        json={"greeting": "Bem-vindo {{first_name}}!", "queue_ids": [suporte]},
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    await _close_all(connection_id)
    await customer_writes(client, tenant, connection_id, "oi de novo")
    replies = (await sent_to_customer(client, tenant, connection_id))[-2:]
    # One queue left: greeted and sent straight to it, no menu.
    assert replies == ["Bem-vindo Maria!", "Suporte novo."]

    # A queue deleted: the count of the company's queues moves the stamp.
    gone = await client.delete(f"/api/queues/{suporte}", headers=tenant.headers)
    assert gone.status_code == 204, gone.text
    await _close_all(connection_id)
    await customer_writes(client, tenant, connection_id, "e agora")
    assert "Suporte novo." not in (await sent_to_customer(client, tenant, connection_id))[-2:]


async def test_a_redelivery_after_the_ticket_closed_opens_nothing(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    pipeline = app.ctx.channels.pipeline
    inbound = InboundMessage(
        connection_id=connection_id,
        channel_message_id=unique("again"),
        sender="+5511988887777",
        push_name="Maria Silva",
        text="oi",
        timestamp=datetime.now(UTC),
    )
    assert await pipeline.receive(inbound) is not None
    await _close_all(connection_id)
    tickets = await Ticket.filter(connection_id=connection_id).count()
    assert await pipeline.receive(inbound) is None
    assert await Ticket.filter(connection_id=connection_id).count() == tickets
    assert await Message.filter(channel_message_id=inbound.channel_message_id).count() == 1


async def test_receipts_only_move_a_message_forward(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    await customer_writes(client, tenant, connection_id, "oi")
    reply = await Message.filter(
        connection_id=connection_id,
        from_bot=True,
        status__in=[MessageStatus.sent, MessageStatus.delivered],
    ).first()
    assert reply is not None
    assert reply.channel_message_id
    sender = app.ctx.channels.sender

    def receipt(status: str) -> Receipt:
        return Receipt(
            connection_id=connection_id,
            channel_message_id=str(reply.channel_message_id),
            status=status,  # type: ignore[arg-type]
            timestamp=datetime.now(UTC),
        )

    read = await sender.receipt(receipt("read"))
    assert read is not None
    assert (read.id, read.ticket_id, read.status) == (reply.id, reply.ticket_id, "read")  # type: ignore[attr-defined]
    assert read.company_id == tenant.company.id
    assert await sender.receipt(receipt("delivered")) is None  # never backward
    assert (await Message.get(id=reply.id)).status == MessageStatus.read


async def _queue_row(queue_id: int) -> Any:
    from service.queues.models import Queue

    return await Queue.get(id=queue_id)


async def _close_all(connection_id: int) -> None:
    await Ticket.filter(connection_id=connection_id).update(
        status=TicketStatus.closed, closed_at=datetime.now(UTC)
    )


async def test_replies_race_a_reconnect_retry_and_go_once_in_order(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    channel = await app.ctx.channels.sandbox(connection_id)
    pipeline, sender = app.ctx.channels.pipeline, app.ctx.channels.sender
    numbers = [f"+55119777700{n:02d}" for n in range(8)]

    async def customer(number: str) -> None:
        inbound = InboundMessage(
            connection_id=connection_id,
            channel_message_id=unique("race"),
            sender=number,
            push_name="Maria Silva",
            text="oi",
            timestamp=datetime.now(UTC),
        )
        await pipeline.receive(inbound)

    await asyncio.gather(
        *(customer(number) for number in numbers),
        *(sender.retry_pending(connection_id) for _ in range(4)),
    )
    for number in numbers:
        texts = [m.text for m in channel.sent[number]]
        assert texts[0] == "Olá Maria!"
        assert len(texts) == 2
        assert "1 - Suporte" in texts[1]


async def test_stored_messages_another_send_took_are_not_sent_again(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    channel = await app.ctx.channels.sandbox(connection_id)
    sender = app.ctx.channels.sender
    await customer_writes(client, tenant, connection_id, "oi")
    ticket = await Ticket.get(connection_id=connection_id)
    mark = sender.mark()  # taken before the message is stored, as the pipeline does
    stored = await Message.create(
        company_id=tenant.company.id,
        ticket_id=ticket.id,
        connection_id=connection_id,
        direction="out",
        body="só uma vez",
        from_bot=True,
        status=MessageStatus.pending,
    )
    await sender.retry_pending(connection_id)  # a reconnect's retry sends it first
    await sender.send_stored([stored], number="+5511988887777", mark=mark)
    texts = [m.text for m in channel.sent["+5511988887777"]]
    assert texts.count("só uma vez") == 1


async def test_two_workers_processing_one_ticket_take_each_message_once(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = (await two_queue_sandbox(client, tenant))["connection_id"]
    hub = app.ctx.channels
    first = hub.pipeline
    # Another worker: its own in-process order, so only the database keeps them apart.
    second = Pipeline(broker=hub.broker, sender=hub.sender, clock=first.clock, default_country="BR")
    stored = []
    for n, text in enumerate(["oi", "9", "8", "7", "6", "5"]):
        inbound = InboundMessage(
            connection_id=connection_id,
            channel_message_id=unique(f"race{n}"),
            sender="+5511988887777",
            push_name="Maria Silva",
            text=text,
            timestamp=datetime.now(UTC),
        )
        ids = await first.persist(inbound)  # stored, not processed (as after a crash)
        assert ids is not None
        stored.append(ids)
    ticket_id = stored[0][1]
    assert {t for _, t in stored} == {ticket_id}
    await asyncio.gather(
        *(worker.process_ticket(ticket_id) for _ in range(3) for worker in (first, second))
    )
    inbound_rows = await Message.filter(ticket_id=ticket_id, direction="in")
    assert len(inbound_rows) == 6
    assert all(m.processed_at is not None for m in inbound_rows)
    ticket = await Ticket.get(id=ticket_id)
    assert ticket.unread_count == 6  # each message counted (processed) once
    replies = await sent_to_customer(client, tenant, connection_id)
    assert replies.count("Olá Maria!") == 1
    assert len(replies) == await Message.filter(ticket_id=ticket_id, direction="out").count()


async def test_concurrent_publishers_are_grouped_in_order_and_each_waits_for_its_own(
    app: Sanic[Any, Any],
) -> None:
    broker = app.ctx.broker
    heard: list[dict[str, Any]] = []
    marker = {"type": "test.marker", "data": {"id": unique("marker")}}
    ready, done = asyncio.Event(), asyncio.Event()

    async def listen() -> None:
        async for event in broker.listen():
            if event.get("data") == marker["data"]:
                ready.set()
            elif event.get("type") == "test.grouped":
                heard.append(event)
                if len(heard) == 60:
                    done.set()

    task = asyncio.create_task(listen())
    try:
        for _ in range(500):  # a listener subscribes once it runs
            await broker.publish(marker)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), 0.02)
            if ready.is_set():
                break
        audience = {"company_id": -1}
        batches = [
            [
                {"type": "test.grouped", "data": {"n": 3 * b + i}, "audience": audience}
                for i in (0, 1, 2)
            ]
            for b in range(20)
        ]
        await asyncio.gather(*(broker.publish_many(batch) for batch in batches))
        await asyncio.wait_for(done.wait(), 10)
    finally:
        task.cancel()
    assert [e["data"]["n"] for e in heard] == list(range(60))
    assert all(e["id"] for e in heard)  # logged, for a replay
