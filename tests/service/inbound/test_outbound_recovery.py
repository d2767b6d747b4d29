"""What a crash or a lost retry left unsent goes out once; a send a crash interrupted is
marked failed for the agent, never sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from bot.channel import ConnectionState
from service.outbound_recovery import INTERRUPTED, STALE
from service.tickets.models import Message
from tests.factories import FakeClock, Tenant
from tests.helpers.sandbox import (
    NUMBER,
    agent_says,
    open_accepted_ticket,
    outbound_statuses,
    until_status,
)


async def _stored(ticket_id: int, body: str) -> Message:
    return await Message.get(ticket_id=ticket_id, body=body)


async def test_a_send_a_crash_interrupted_is_failed_for_the_agent_not_resent(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    await channel.disconnect()
    await agent_says(client, tenant, ticket_id, "talvez tenha saído")
    # What a worker killed during the channel call leaves: the intent, and no outcome.
    message = await _stored(ticket_id, "talvez tenha saído")
    await Message.filter(id=message.id).update(send_started_at=clock() - timedelta(minutes=1))
    await channel.reconnect()  # its retry leaves the message alone
    await app.ctx.channels.recovery.run_pass()
    shown = (await outbound_statuses(client, tenant, ticket_id))["talvez tenha saído"]
    assert (shown["status"], shown["error"]) == ("failed", INTERRUPTED)
    assert "talvez tenha saído" not in [m.text for m in channel.sent[NUMBER]]


async def test_a_channel_that_refuses_leaves_the_message_free_to_go_later(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    await channel.disconnect()
    await agent_says(client, tenant, ticket_id, "espera a conexão")
    assert (await _stored(ticket_id, "espera a conexão")).send_started_at is None
    await channel.reconnect()
    await until_status(client, tenant, ticket_id, "espera a conexão", "delivered")


async def test_the_periodic_pass_sends_what_no_retry_picked_up(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    await channel.disconnect()
    await agent_says(client, tenant, ticket_id, "ficou para trás")
    # Connected again without anyone hearing of it (a lost command, a missed state change).
    channel._state = ConnectionState.connected
    await app.ctx.channels.recovery.run_pass()
    assert (await outbound_statuses(client, tenant, ticket_id))["ficou para trás"][
        "status"
    ] == "pending"
    clock.advance(STALE + timedelta(seconds=1))
    await app.ctx.channels.recovery.run_pass()
    await until_status(client, tenant, ticket_id, "ficou para trás", "delivered")
    assert [m.text for m in channel.sent[NUMBER]].count("ficou para trás") == 1


async def test_a_reply_held_for_its_send_is_never_taken_for_a_dead_process(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    """Bot replies are stored with their intent and held until sent: the recovery pass
    leaves them alone however long the send waits, and fails them once nobody holds them."""
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    await channel.disconnect()
    await agent_says(client, tenant, ticket_id, "na vez dele")
    await Message.filter(body="na vez dele").update(send_started_at=clock() - timedelta(minutes=1))
    message = await _stored(ticket_id, "na vez dele")
    sender = app.ctx.channels.sender
    sender.hold([message])
    await app.ctx.channels.recovery.run_pass()
    assert (await outbound_statuses(client, tenant, ticket_id))["na vez dele"][
        "status"
    ] == "pending"
    sender.release([message])
    await app.ctx.channels.recovery.run_pass()
    shown = (await outbound_statuses(client, tenant, ticket_id))["na vez dele"]
    assert (shown["status"], shown["error"]) == ("failed", INTERRUPTED)
