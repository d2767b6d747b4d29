"""The inbox page's test setup through the API: a queue with a colour, a sandbox connection
that greets by first name, an agent of a queue, a customer waiting in it; and switching the
inbox's tabs."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from service.users.models import Role
from tests.factories import Member, Tenant, unique
from tests.helpers.browser import Tab


async def make_colored_queue(
    client: httpx.AsyncClient, tenant: Tenant, name: str, greeting: str
) -> int:
    # A colour: the list paints it through the CSSOM, which the page's policy allows.
    response = await client.post(
        "/api/queues",
        json={"name": name, "greeting": greeting, "color": "#2e7d32"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def make_sandbox(client: httpx.AsyncClient, tenant: Tenant, queue_ids: list[int]) -> int:
    response = await client.post(
        "/api/connections",
        json={
            "name": unique("Loja"),
            "channel": "sandbox",
            "greeting": "Olá {{first_name}}!",
            "queue_ids": queue_ids,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def agent_of(client: httpx.AsyncClient, tenant: Tenant, queue_id: int) -> Member:
    agent = await tenant.member(Role.agent)
    joined = await client.patch(
        f"/api/users/{agent.user.id}", json={"queue_ids": [queue_id]}, headers=tenant.headers
    )
    assert joined.status_code == 200, joined.text
    return agent


async def show_tab(tab: Tab, name: str) -> None:
    """Switch the inbox to a tab; done when its first page has arrived."""
    await tab.page.click(f"#tab-{name}")
    await expect(tab.page.locator(f"#tab-{name}")).to_have_attribute("aria-selected", "true")
    await expect(tab.page.locator("#ticket-list")).to_have_attribute("aria-busy", "false")


async def customer_waits_in(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, number: str
) -> None:
    """A customer writes and picks the first queue of the menu (through the API)."""
    for text in ("oi", "1"):
        sent = await client.post(
            f"/api/sandbox/{connection_id}/inbound",
            json={"from": number, "name": "Joana Prado", "text": text},
            headers=tenant.headers,
        )
        assert sent.status_code == 200, sent.text


# A 1x1 PNG.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a1d2"
    "6b0000000049454e44ae426082"
)
