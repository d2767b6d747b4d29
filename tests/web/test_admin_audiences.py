"""Audiences and scheduled messages in a real browser: the segment editor counts who
matches as the filters change and makes a contact list of them (members removed and added
by search); an agent schedules a message from the contact panel, the server's clock moves
on, and the customer receives it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from playwright.async_api import expect
from sanic import Sanic

from service.contacts.models import Contact
from service.tags.models import Tag
from tests.factories import FakeClock, Tenant, unique
from tests.helpers.browser import OpenTab, Tab
from tests.helpers.inbox import (
    agent_of,
    customer_waits_in,
    make_colored_queue,
    make_sandbox,
    show_tab,
)

NUMBER = "+5511944443333"


def _assert_clean(*tabs: Tab) -> None:
    for tab in tabs:
        assert tab.errors == [], f"{tab.name}: {tab.errors}"
        assert tab.dialogs == [], f"{tab.name}: {tab.dialogs}"


async def test_segment_editor_counts_live_and_makes_a_list(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    vip = await Tag.create(company=tenant.company, name=unique("VIP"))
    people: dict[str, Contact] = {}
    for name, number, tagged, fields, out in (
        ("Ana Gold", "+5511900000001", True, {"plano": "ouro"}, False),
        ("Bia Prata", "+5511900000002", True, {"plano": "prata"}, False),
        ("Caio Sem Tag", "+5511900000003", False, {"plano": "ouro"}, False),
        ("Duda Saiu", "+5511900000004", True, {"plano": "ouro"}, True),
    ):
        contact = await Contact.create(
            company=tenant.company, number=number, name=name, custom_fields=fields, opted_out=out
        )
        if tagged:
            await contact.tags.add(vip)
        people[name] = contact

    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#audiences", tenant.admin.email)
    await expect(page.locator("#au-segments")).to_be_visible()
    await page.click("#au-segment-new")
    count = page.locator("#au-count")
    await expect(count).to_have_attribute("data-count", "3")  # everyone but Duda (opted out)
    await page.fill("#au-segment-name", "VIPs")
    await page.select_option("#au-tags-any", str(vip.id))
    await expect(count).to_have_attribute("data-count", "2")
    await expect(page.locator("#au-sample")).to_contain_text("Ana Gold")
    await expect(page.locator("#au-sample")).not_to_contain_text("Duda")
    # A custom field condition narrows it; removing it widens it again.
    await page.click("#au-field-add")
    row = page.locator("#au-field-rows .au-field-row").first
    await row.locator("input").first.fill("plano")
    await row.locator("input").nth(1).fill("OURO")
    await expect(count).to_have_attribute("data-count", "1")
    await admin.shot("1-editor")
    await page.click("#au-segment-save")
    await expect(page.locator("#au-segments tr[data-segment-id]")).to_have_count(1)

    await page.fill("#au-new-list-name", "VIP ouro")
    await page.click("#au-make-list")
    list_row = page.locator("#au-lists tr[data-list-id]", has_text="VIP ouro")
    await expect(list_row).to_contain_text("1")
    await list_row.locator("[data-action=members]").click()
    members = page.locator("#au-members tr[data-contact-id]")
    await expect(members).to_have_count(1)
    await expect(members.first).to_contain_text("Ana Gold")

    # Add Bia by searching, then remove Ana.
    await page.fill("#au-add-search", "Bia")
    await page.locator("#au-add-results button").first.click()
    await expect(members).to_have_count(2)
    await expect(list_row).to_contain_text("2")
    await page.locator(f"#au-members tr[data-contact-id='{people['Ana Gold'].id}'] button").click()
    await expect(members).to_have_count(1)
    await expect(members.first).to_contain_text("Bia Prata")
    await admin.shot("2-list")

    # Rename the list, then delete it (its contacts stay).
    list_id = await list_row.get_attribute("data-list-id")
    same_row = page.locator(f"#au-lists tr[data-list-id='{list_id}']")
    await same_row.locator("[data-action=rename]").click()
    await same_row.locator("input").fill("VIP renomeada")
    await same_row.locator("input").press("Enter")
    renamed = page.locator("#au-lists tr[data-list-id]", has_text="VIP renomeada")
    await expect(renamed).to_have_count(1)
    await renamed.locator("[data-action=delete]").click()
    await page.locator("dialog[open] [data-confirm]").click()
    await expect(page.locator("#au-lists tr[data-list-id]")).to_have_count(0)
    await expect(page.locator("#au-members")).to_be_hidden()
    assert await Contact.filter(company=tenant.company).count() == 4

    # At phone width the two panels stack and stay usable.
    await page.set_viewport_size({"width": 390, "height": 800})
    await expect(page.locator("#au-segment-new")).to_be_visible()
    await page.click("#au-segment-new")
    await expect(page.locator("#au-count")).to_have_attribute("data-count", "3")
    await page.click("#au-field-add")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the audiences section is {width}px wide"
    await admin.shot("3-phone")
    _assert_clean(admin)


async def test_an_agent_schedules_a_message_from_the_contact_panel(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    clock: FakeClock,
    open_tab: OpenTab,
    base_url: str,
) -> None:
    suporte = await make_colored_queue(client, tenant, "Suporte", "Você está no Suporte.")
    connection_id = await make_sandbox(client, tenant, [suporte])
    agent = await agent_of(client, tenant, suporte)
    await customer_waits_in(client, tenant, connection_id, NUMBER)

    inbox = await open_tab("agent")
    page = inbox.page
    await inbox.log_in(base_url, "/", agent.email)
    await show_tab(inbox, "waiting")
    await page.locator(".ticket-item", has_text="Joana Prado").click()
    await page.click("[data-action=accept]")
    await expect(page.locator("#chat-sub")).to_have_attribute("data-status", "open")
    await page.click("#contact-toggle")
    panel = page.locator("#contact-panel")
    await expect(panel.locator("#cp-sched-none")).to_be_visible()

    # Five minutes from now, in the browser's own time zone.
    later = await page.evaluate(
        """() => {
          const d = new Date(Date.now() + 5 * 60 * 1000);
          const two = (n) => String(n).padStart(2, "0");
          return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}` +
            `T${two(d.getHours())}:${two(d.getMinutes())}`;
        }"""
    )
    await panel.locator("#cp-sched-body").fill("Lembrete: sua consulta é amanhã")
    await panel.locator("#cp-sched-at").fill(later)
    await panel.locator("#cp-sched-submit").click()
    item = panel.locator("#cp-sched-list .cp-sched-item")
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-status", "pending")
    await expect(item).to_contain_text("Lembrete: sua consulta é amanhã")
    await inbox.shot("1-scheduled")

    # Ten minutes later on the server's clock, the runner sends it.
    clock.advance(timedelta(minutes=10))
    try:
        assert await app.ctx.scheduled_runner.tick() == 1
    finally:
        clock.advance(timedelta(minutes=-10))
    await expect(item).to_have_attribute("data-status", "sent")
    await expect(page.locator(".messages")).to_contain_text("Lembrete: sua consulta é amanhã")
    received = await client.get(
        f"/api/sandbox/{connection_id}/outbound", params={"to": NUMBER}, headers=tenant.headers
    )
    assert "Lembrete: sua consulta é amanhã" in [m["text"] for m in received.json()["items"]]

    # A second one, cancelled before its time: it never goes.
    await panel.locator("#cp-sched-body").fill("Cancelado")
    await panel.locator("#cp-sched-at").fill(later)
    await panel.locator("#cp-sched-submit").click()
    await expect(item).to_have_count(2)
    await item.first.locator(".cp-sched-cancel").click()
    await expect(item.first).to_have_attribute("data-status", "cancelled")
    # A colleague's scheduled message for the same contact appears live; so does its end.
    contact_id = (await Contact.get(company=tenant.company, number=NUMBER)).id
    theirs = await client.post(
        "/api/scheduled-messages",
        json={
            "contact_id": contact_id,
            "body": "Da supervisão",
            "send_at": (clock() + timedelta(hours=1)).isoformat(),
        },
        headers=tenant.headers,
    )
    assert theirs.status_code == 201, theirs.text
    await expect(item).to_have_count(3)
    await expect(item.first).to_contain_text("Da supervisão")
    gone = await client.delete(
        f"/api/scheduled-messages/{theirs.json()['id']}", headers=tenant.headers
    )
    assert gone.status_code == 200
    await expect(item.first).to_have_attribute("data-status", "cancelled")
    await inbox.shot("2-sent-and-cancelled")
    _assert_clean(inbox)
