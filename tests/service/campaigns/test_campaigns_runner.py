"""The campaign loop: exactly one message per contact across stops, crashes and concurrent
loops; opt-outs honoured mid-campaign; the window and the hourly cap respected; failures."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sanic import Sanic

from bot.channel import OutboundMessage, Receipt
from bot.sandbox import SandboxChannel
from service.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from service.campaigns.runner import INTERRUPTED
from service.contacts.models import Contact
from tests.factories import FakeClock, Tenant
from tests.helpers.campaigns import (
    campaign_body,
    create_campaign,
    make_contacts,
    make_list,
    run_until_done,
    runner_for,
    sandbox_connection,
    stop_leftover_campaigns,  # noqa: F401  (an autouse fixture)
)


def _received(channel: SandboxChannel, contacts: list[Contact]) -> Counter[str]:
    return Counter({c.number: len(channel.sent.get(c.number, [])) for c in contacts})


async def test_a_thousand_recipients_stopped_and_crashed_midway_resume_exactly_once(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    started = time.monotonic()
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 1000)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    cid = campaign["id"]
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)

    # The first worker runs as a task; it is cancelled between ticks half-way through.
    first = runner_for(app, clock, seed=1)
    for _ in range(400):
        task = asyncio.ensure_future(first.tick())
        await task
        clock.advance(timedelta(seconds=1))
    task = asyncio.ensure_future(first.tick())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    del first

    # A second one crashes between a claim and its send.
    second = runner_for(app, clock, seed=2)
    clock.advance(timedelta(seconds=1))
    row = await Campaign.get(id=cid)
    claim = await second.claim(row, now=clock())
    assert claim is not None
    del second

    # A third starts a minute later, finds the interrupted claim, and finishes the job.
    clock.advance(timedelta(minutes=2))
    third = runner_for(app, clock, seed=3)
    assert await third.recover() == 1
    await run_until_done(third, clock, cid)

    received = _received(channel, contacts)
    lost = await CampaignRecipient.get(id=claim.recipient_id)
    assert lost.status is RecipientStatus.failed
    assert lost.reason == INTERRUPTED
    missing = [n for n, count in received.items() if count == 0]
    assert missing == [claim.to]
    assert max(received.values()) == 1
    counts = Counter(
        await CampaignRecipient.filter(campaign_id=cid).values_list("status", flat=True)
    )
    # The sandbox acknowledges each send: sent, or delivered once its receipt is in.
    left = counts[RecipientStatus.sent] + counts[RecipientStatus.delivered]
    assert left == 999
    assert counts[RecipientStatus.failed] == 1
    finished = await Campaign.get(id=cid)
    assert finished.status is CampaignStatus.finished
    assert time.monotonic() - started < 60  # CI machines are slower than 20 s; still bounded


async def test_two_loops_on_one_campaign_never_send_twice(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 60)
    # With a pause between sends, one round can send once at most; without one (0 s) two
    # loops may both send in a round, one after the other, but still never to one contact.
    body = campaign_body(connection_id, await make_list(tenant, contacts), min_delay=1, max_delay=1)
    campaign = await create_campaign(client, tenant, body)
    one, two = runner_for(app, clock, seed=1), runner_for(app, clock, seed=2)
    for _ in range(200):
        results = await asyncio.gather(one.tick(), two.tick())
        assert sum(results) <= 1  # the campaign's pace holds across loops
        clock.advance(timedelta(seconds=1))
        if (await Campaign.get(id=campaign["id"])).status is CampaignStatus.finished:
            break
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    received = _received(channel, contacts)
    assert set(received.values()) == {1}
    assert (await Campaign.get(id=campaign["id"])).status is CampaignStatus.finished


async def test_two_loops_without_a_pause_still_never_send_twice(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 60)
    body = campaign_body(connection_id, await make_list(tenant, contacts), min_delay=0, max_delay=0)
    campaign = await create_campaign(client, tenant, body)
    loops = [runner_for(app, clock, seed=seed) for seed in (1, 2, 3)]
    for _ in range(200):
        await asyncio.gather(*(loop.tick() for loop in loops))
        if (await Campaign.get(id=campaign["id"])).status is CampaignStatus.finished:
            break
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    assert set(_received(channel, contacts).values()) == {1}


async def test_opted_out_midway_is_skipped_never_sent(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 6)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    runner = runner_for(app, clock)
    await runner.tick()
    await Contact.filter(id__in=[contacts[3].id, contacts[5].id]).update(
        opted_out=True, opted_out_at=clock(), opted_out_reason="keyword SAIR"
    )
    await run_until_done(runner, clock, campaign["id"])
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    received = _received(channel, contacts)
    assert [received[c.number] for c in contacts] == [1, 1, 1, 0, 1, 0]
    rows = {
        row.contact_id: row  # type: ignore[attr-defined]
        for row in await CampaignRecipient.filter(campaign_id=campaign["id"])
    }
    for contact in (contacts[3], contacts[5]):
        assert rows[contact.id].status is RecipientStatus.skipped
        assert rows[contact.id].reason == "opted out"


async def test_window_and_hourly_cap_are_respected(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 12)
    zone = "America/Sao_Paulo"
    body = campaign_body(
        connection_id,
        await make_list(tenant, contacts),
        min_delay=30,
        max_delay=90,
        long_pause_every=4,
        long_pause=600,
        hourly_cap=5,
        timezone=zone,
        window_start="09:00",
        window_end="11:00",
        window_weekdays=[0, 1, 2, 3, 4],
    )
    campaign = await create_campaign(client, tenant, body)
    # Run from a Friday at 10:30 in São Paulo: half an hour of window, then Monday.
    local_now = clock().astimezone(ZoneInfo(zone))
    days_to_friday = (4 - local_now.weekday()) % 7 or 7
    friday = (local_now + timedelta(days=days_to_friday)).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    clock.advance(friday.astimezone(UTC) - clock())
    await run_until_done(runner_for(app, clock), clock, campaign["id"])

    rows = await CampaignRecipient.filter(campaign_id=campaign["id"]).values("sent_at")
    sent_at: list[datetime] = sorted(row["sent_at"] for row in rows if row["sent_at"])
    assert len(sent_at) == 12
    for at in sent_at:
        local = at.astimezone(ZoneInfo(zone))
        assert local.weekday() < 5, local
        assert 9 <= local.hour < 11, local
    for i, at in enumerate(sent_at):
        in_hour = [other for other in sent_at[: i + 1] if at - other < timedelta(hours=1)]
        assert len(in_hour) <= 5, at
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert all(gap >= timedelta(seconds=30) for gap in gaps)
    assert gaps[3] >= timedelta(seconds=600)  # the long pause after the 4th send
    assert sent_at[-1].astimezone(ZoneInfo(zone)).weekday() == 0  # carried over to Monday


async def test_weekdays_without_hours_never_send_on_a_sunday(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    # The admin form's "any hour" with Monday to Friday: the weekday rule still holds.
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 3)
    zone = "America/Sao_Paulo"
    body = campaign_body(
        connection_id,
        await make_list(tenant, contacts),
        timezone=zone,
        window_weekdays=[0, 1, 2, 3, 4],
    )
    campaign = await create_campaign(client, tenant, body)
    local_now = clock().astimezone(ZoneInfo(zone))
    sunday = (local_now + timedelta(days=(6 - local_now.weekday()) % 7 or 7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    clock.advance(sunday.astimezone(UTC) - clock())
    await run_until_done(runner_for(app, clock), clock, campaign["id"])

    rows = await CampaignRecipient.filter(campaign_id=campaign["id"]).values("sent_at")
    sent_at = [row["sent_at"] for row in rows if row["sent_at"]]
    assert len(sent_at) == 3
    assert {at.astimezone(ZoneInfo(zone)).weekday() for at in sent_at} == {0}  # Monday


async def test_send_failures_and_a_disconnected_channel(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 3)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    runner = runner_for(app, clock)
    await channel.disconnect()
    try:
        for _ in range(3):
            assert await runner.tick() == 0
            clock.advance(timedelta(seconds=2))
        assert (
            await CampaignRecipient.filter(
                campaign_id=campaign["id"], status=RecipientStatus.queued
            ).count()
            == 3
        )
    finally:
        await channel.reconnect()
    channel.fail_next(1, "number not on WhatsApp")
    await run_until_done(runner, clock, campaign["id"])
    rows = await CampaignRecipient.filter(campaign_id=campaign["id"]).order_by("id")
    left = {RecipientStatus.sent, RecipientStatus.delivered}  # delivered once acknowledged
    assert rows[0].status is RecipientStatus.failed
    assert {rows[1].status, rows[2].status} <= left
    assert rows[0].reason == "number not on WhatsApp"
    assert _received(channel, contacts)[contacts[0].number] == 0


async def test_the_channels_receipts_reach_the_statistics(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    # The sandbox acknowledges each send at once, before the runner has stored its id: the
    # early receipt must still count, and a later read receipt too.
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 4)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    await run_until_done(runner_for(app, clock), clock, campaign["id"])
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)

    async def counts() -> dict[str, int]:
        response = await client.get(f"/api/campaigns/{campaign['id']}", headers=tenant.headers)
        assert response.status_code == 200, response.text
        return dict(response.json()["stats"]["counts"])

    async def until(expected: dict[str, int]) -> None:
        for _ in range(200):  # the receipts come from the channel's background tasks
            found = await counts()
            if all(found[key] == value for key, value in expected.items()):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{found} never reached {expected}")

    await until({"delivered": 4})
    first = await CampaignRecipient.get(campaign_id=campaign["id"], contact_id=contacts[0].id)
    assert first.channel_message_id
    await channel.read(first.channel_message_id)
    await until({"delivered": 3, "read": 1})


async def test_a_receipt_before_the_send_is_recorded_still_counts(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    # WhatsApp may acknowledge while the runner is still storing the message's id.
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 2)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    plain_send = channel.send

    async def acknowledged_at_once(message: OutboundMessage) -> str:
        channel_id = await plain_send(message)
        await app.ctx.channels.on_receipt(Receipt(connection_id, channel_id, "read", clock()))
        return channel_id

    channel.send = acknowledged_at_once  # type: ignore[method-assign]
    try:
        await run_until_done(runner_for(app, clock), clock, campaign["id"])
    finally:
        del channel.send
    rows = await CampaignRecipient.filter(campaign_id=campaign["id"])
    assert [row.status for row in rows] == [RecipientStatus.read, RecipientStatus.read]


async def test_a_campaign_message_waits_for_the_conversations_send_to_that_number(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    # One send path: the campaign's message takes its turn in the chat, never in the middle
    # of the bot's replies to the same customer.
    connection_id = await sandbox_connection(client, tenant)
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    plain_send, release = channel.send, asyncio.Event()

    async def slow_conversation(message: OutboundMessage) -> str:
        if message.message_id is not None:  # a ticket's message (a campaign's has none)
            await release.wait()
        return await plain_send(message)

    channel.send = slow_conversation  # type: ignore[method-assign]
    body = {"from": "+55 11 97777-1234", "name": "Rita Lima", "text": "oi"}
    inbound = asyncio.ensure_future(
        client.post(f"/api/sandbox/{connection_id}/inbound", json=body, headers=tenant.headers)
    )
    try:
        for _ in range(200):
            contact = await Contact.get_or_none(company_id=tenant.company.id, name="Rita Lima")
            if contact is not None:
                break
            await asyncio.sleep(0.01)
        assert contact is not None
        campaign = await create_campaign(
            client, tenant, campaign_body(connection_id, await make_list(tenant, [contact]))
        )
        running = asyncio.ensure_future(
            run_until_done(runner_for(app, clock), clock, campaign["id"])
        )
        await asyncio.sleep(0.3)
        assert not running.done()
        assert channel.sent.get(contact.number, []) == []
        release.set()
        assert (await inbound).status_code == 200
        await running
    finally:
        release.set()
        del channel.send
    texts = [m.text for m in channel.sent[contact.number]]
    assert texts[-1] == "Olá Rita!", texts
    assert len(texts) > 1, texts  # the bot's replies first
