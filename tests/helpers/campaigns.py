"""Campaigns as the tests of the API, the runner, the segments and the admin pages set them
up: a sandbox connection, bulk contacts and a list, a campaign created and started, a runner
ticked on the fake clock until the campaign is done."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sanic import Sanic

from bot.sandbox import SandboxChannel
from service.audiences.models import ContactList, ContactListMember
from service.campaigns.models import Campaign, CampaignStatus
from service.campaigns.runner import CampaignRunner
from service.contacts.models import Contact
from tests.factories import FakeClock, Tenant, unique


async def sandbox_connection(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.post(
        "/api/connections",
        json={"name": unique("campaigns"), "channel": "sandbox"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    connection_id: int = response.json()["id"]
    return connection_id


async def make_contacts(tenant: Tenant, count: int, **fields: Any) -> list[Contact]:
    base = random.randrange(10_000_000, 90_000_000 - count)
    await Contact.bulk_create(
        [
            Contact(
                company_id=tenant.company.id,
                number=f"+55119{base + i:08d}",
                name=f"Cliente {i} Silva",
                **fields,
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    return list(
        await Contact.filter(company_id=tenant.company.id, number__startswith="+55119").order_by(
            "id"
        )
    )


async def make_list(tenant: Tenant, contacts: list[Contact]) -> int:
    contact_list = await ContactList.create(company_id=tenant.company.id, name=unique("list"))
    await ContactListMember.bulk_create(
        [ContactListMember(contact_list_id=contact_list.id, contact_id=c.id) for c in contacts],
        batch_size=500,
    )
    return contact_list.id


async def without_receipts(app: Sanic[Any, Any], connection_id: int) -> None:
    """The sandbox stops acknowledging sends, so that statuses stay as the runner left them."""
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    channel.acknowledges = False


def campaign_body(connection_id: int, list_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": unique("campaign"),
        "connection_id": connection_id,
        "contact_list_id": list_id,
        "variants": ["Olá {{first_name}}!"],
        "min_delay": 1,
        "max_delay": 1,
        **extra,
    }


async def create_campaign(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], *, start: bool = True
) -> dict[str, Any]:
    response = await client.post("/api/campaigns", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    campaign: dict[str, Any] = response.json()
    if start:
        response = await client.post(
            f"/api/campaigns/{campaign['id']}/start", headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        campaign = response.json()
    return campaign


def runner_for(app: Sanic[Any, Any], clock: FakeClock, seed: int = 1) -> CampaignRunner:
    return CampaignRunner(
        channels=app.ctx.channels, broker=app.ctx.broker, clock=clock, rng=random.Random(seed)
    )


async def run_until_done(
    runner: CampaignRunner, clock: FakeClock, campaign_id: int, *, max_ticks: int = 5000
) -> None:
    """Tick, moving the clock to each next send, until the campaign is no longer running."""
    for _ in range(max_ticks):
        await runner.tick()
        campaign = await Campaign.get(id=campaign_id)
        if campaign.status not in (CampaignStatus.running, CampaignStatus.scheduled):
            return
        if campaign.next_send_at is not None and campaign.next_send_at > clock():
            clock.advance(campaign.next_send_at - clock())
    raise AssertionError("the campaign did not finish")


@pytest_asyncio.fixture(autouse=True)
async def stop_leftover_campaigns() -> AsyncIterator[None]:
    """A test's campaign that still runs must not reach the next test's runner."""
    yield
    await Campaign.filter(
        status__in=[CampaignStatus.running, CampaignStatus.scheduled, CampaignStatus.paused]
    ).update(status=CampaignStatus.cancelled)
