"""A ticket's history in the chat, live: accept, transfer with a note, close and reopen each
show as a line in the page that did it and in a colleague's open page, without a reload; and
the inbox fetches no ticket again because of an event (each event carries what it needs)."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Request, expect

from service.users.models import Role
from tests.factories import Tenant, agent_in, make_queue, make_ticket
from tests.helpers.browser import OpenTab, Tab

_ONE_TICKET = re.compile(r"/api/tickets/\d+$")


def _count_ticket_reads(tab: Tab) -> list[str]:
    """The GET /api/tickets/{id} this page makes from now on."""
    reads: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "GET" and _ONE_TICKET.search(request.url.split("?")[0]):
            reads.append(request.url)

    tab.page.on("request", seen)
    return reads


async def _open(tab: Tab, base_url: str, email: str, ticket_id: int) -> None:
    await tab.log_in(base_url, f"/#ticket={ticket_id}", email)
    await expect(tab.page.locator("#chat-sub")).to_have_attribute("data-status", "pending")


async def test_history_lines_appear_live_in_both_pages(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte, financeiro = await make_queue(tenant), await make_queue(tenant)
    ana = await agent_in(tenant, suporte)
    await ana.user.queues.add(financeiro)
    supervisor = await tenant.member(Role.supervisor)
    ticket = await make_ticket(tenant, queue=suporte, name="Maria Silva")

    mine, theirs = await open_tab("ana"), await open_tab("supervisor")
    await _open(mine, base_url, ana.email, ticket.id)
    await _open(theirs, base_url, supervisor.email, ticket.id)
    reads = {"ana": _count_ticket_reads(mine), "supervisor": _count_ticket_reads(theirs)}
    lines = {tab.name: tab.page.locator("#message-list .history-line") for tab in (mine, theirs)}

    async def both_show(count: int, text: str) -> None:
        for tab in (mine, theirs):
            await expect(lines[tab.name]).to_have_count(count)
            await expect(lines[tab.name].last).to_contain_text(text)

    page = mine.page
    await page.click("[data-action=accept]")
    await both_show(1, f"{ana.user.name} accepted")

    await page.click("[data-action=transfer]")
    await page.select_option("#transfer-queue", str(financeiro.id))
    await page.fill("#transfer-note", "cliente quer 2ª via")
    await page.click(".dialog-form button[type=submit]")
    await both_show(
        2,
        f"Transferred from {suporte.name} to {financeiro.name} by {ana.user.name}:"
        " cliente quer 2ª via",
    )
    await expect(page.locator("#chat-sub")).to_have_attribute("data-status", "pending")

    await page.click("[data-action=accept]")
    await both_show(3, f"{ana.user.name} accepted")
    await page.click("[data-action=close]")
    await both_show(4, f"Closed by {ana.user.name}")
    await expect(theirs.page.locator("#chat-sub")).to_have_attribute("data-status", "closed")
    await page.click("[data-action=reopen]")
    await both_show(5, f"Reopened by {ana.user.name}")
    await expect(theirs.page.locator("#chat-sub")).to_have_attribute("data-status", "open")
    await mine.shot("history")

    # Neither page fetched the ticket because of an event.
    assert reads == {"ana": [], "supervisor": []}
    # A reload shows the same lines, from GET /api/tickets/{id}/history.
    live = await lines["supervisor"].all_inner_texts()
    await theirs.page.reload()
    await expect(lines["supervisor"]).to_have_count(5)
    assert await lines["supervisor"].all_inner_texts() == live
    assert mine.errors == []
    assert theirs.errors == []
