"""A customer answering a campaign: the agent sees which campaign the conversation answers."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect
from sanic import Sanic

from tests.factories import FakeClock, Tenant
from tests.helpers.browser import OpenTab
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


async def test_the_chat_names_the_campaign_it_answers(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    clock: FakeClock,
    open_tab: OpenTab,
    base_url: str,
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    [contact] = await make_contacts(tenant, 1)
    body = campaign_body(connection_id, await make_list(tenant, [contact]), name="Black Friday")
    campaign = await create_campaign(client, tenant, body)
    await run_until_done(runner_for(app, clock), clock, campaign["id"])
    written = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": contact.number, "text": "Quero o desconto"},
        headers=tenant.headers,
    )
    assert written.status_code < 300, written.text
    tickets = await client.get(f"/api/tickets?contact_id={contact.id}", headers=tenant.headers)
    ticket_id = tickets.json()["items"][0]["id"]

    admin = await open_tab("admin")
    await admin.log_in(base_url, f"/#ticket={ticket_id}", tenant.admin.email)
    await expect(admin.page.locator("#chat-sub")).to_contain_text(
        "answers the campaign “Black Friday”"
    )
    await admin.shot("campaign-answer")
    assert admin.errors == [], admin.errors
