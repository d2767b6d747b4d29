"""The inbox's contact panel, attachments and "typing…" in a real browser: an agent edits the
contact (a supervisor's tab follows live), tags it, opens a past ticket, sends a file that
the customer receives, and the customer's phone shows the agent typing."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import FilePayload, expect

from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Ticket, TicketStatus
from service.users.models import Role
from tests.factories import Tenant, make_ticket
from tests.helpers.browser import OpenTab, Tab
from tests.helpers.inbox import (
    PIXEL,
    agent_of,
    customer_waits_in,
    make_colored_queue,
    make_sandbox,
    show_tab,
)
from tests.helpers.whatsapp import eventually_async

NUMBER = "+5511955554444"
NASTY_FIELD = "<b>VIP</b><img src=x onerror=alert(1)>"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _unexpected(tab: Tab, *, allowed: str | None = None) -> list[str]:
    """The tab's errors, but for the refusals the test caused on purpose (`allowed` in them)."""
    return [
        error
        for error in tab.errors
        if not (allowed and (allowed in error or "status of 422" in error))
    ]


async def _sandbox_items(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, what: str
) -> list[Any]:
    response = await client.get(
        f"/api/sandbox/{connection_id}/{what}", params={"to": NUMBER}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_the_contact_panel_attachments_and_typing(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte = await make_colored_queue(client, tenant, "Suporte", "Você está no Suporte.")
    connection_id = await make_sandbox(client, tenant, [suporte])
    agent = await agent_of(client, tenant, suporte)
    supervisor = await tenant.member(Role.supervisor)
    tag = await client.post(
        "/api/tags", json={"name": "VIP", "color": "#c62828"}, headers=tenant.headers
    )
    assert tag.status_code == 201, tag.text
    created = await client.post(
        "/api/contacts",
        json={
            "number": NUMBER,
            "name": "Joana Prado",
            "custom_fields": {"nota": NASTY_FIELD, "plano": "prata"},
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    # An earlier conversation of this customer, handled and rated.
    contact = await Contact.get(id=created.json()["id"])
    past = await make_ticket(
        tenant,
        contact=contact,
        connection=await Connection.get(id=connection_id),
        queue=await Queue.get(id=suporte),
        status=TicketStatus.closed,
        user=agent.user,
    )
    await Ticket.filter(id=past.id).update(rating=4, unread_count=0)
    await customer_waits_in(client, tenant, connection_id, NUMBER)

    inbox = await open_tab("agent")
    page = inbox.page
    await inbox.log_in(base_url, "/", agent.email)
    await show_tab(inbox, "waiting")
    item = page.locator(".ticket-item", has_text="Joana Prado")
    await item.click()
    ticket_id = int(await item.get_attribute("data-id") or 0)
    await page.click("[data-action=accept]")
    await expect(page.locator("#chat-sub")).to_have_attribute("data-status", "open")

    boss = await open_tab("supervisor")
    await boss.log_in(base_url, f"/#ticket={ticket_id}", supervisor.email)
    await expect(boss.page.locator("#chat-name")).to_have_text("Joana Prado")
    # The supervisor works in the dark theme (its screenshot shows the panel there).
    await boss.page.locator(".topbar .icon-button", has_text=re.compile("[☾☀]")).click()
    await expect(boss.page.locator("html")).to_have_attribute("data-theme", "dark")
    await boss.page.click("#contact-toggle")
    await expect(boss.page.locator("#cp-name")).to_have_text("Joana Prado")

    # The panel, from the keyboard: the toggle says it is open, Escape closes it again.
    toggle = page.locator("#contact-toggle")
    await toggle.focus()
    await page.keyboard.press("Enter")
    panel = page.locator("#contact-panel")
    await expect(panel).to_be_visible()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(panel.locator("#cp-number")).to_have_text(NUMBER)
    await expect(panel.locator("#cp-optout")).to_have_attribute("data-opted-out", "false")
    # A custom field holding HTML is text, nothing more.
    await expect(panel.locator('dd[data-key="nota"]')).to_have_text(NASTY_FIELD)
    assert await panel.locator("img, b, script").count() == 0
    # Past tickets, newest first, the open one marked.
    tickets = panel.locator("#cp-tickets .cp-ticket")
    await expect(tickets).to_have_count(2)
    assert [await b.get_attribute("data-id") for b in await tickets.all()] == [
        str(ticket_id),
        str(past.id),
    ]
    await expect(tickets.first).to_have_attribute("aria-current", "true")
    await expect(tickets.nth(1)).to_contain_text("★ 4")
    await expect(tickets.nth(1)).to_contain_text("Suporte")
    await inbox.shot("1-panel")

    # Edit the name and a custom field, add another.
    await panel.locator("#cp-edit").click()
    await page.fill("#cp-name-input", "Joana P. Prado")
    await panel.locator('input[aria-label="Value of plano"]').fill("ouro")
    await panel.locator("#cp-add-field").click()
    await panel.locator(".cp-key").last.fill("cidade")
    await panel.locator(".cp-value").last.fill("Recife")
    await inbox.shot("2-editing")
    await panel.locator("#cp-save").click()
    await expect(panel.locator("#cp-name")).to_have_text("Joana P. Prado")
    await expect(panel.locator('dd[data-key="plano"]')).to_have_text("ouro")
    await expect(panel.locator('dd[data-key="cidade"]')).to_have_text("Recife")
    await expect(panel.locator('dd[data-key="nota"]')).to_have_text(NASTY_FIELD)
    await expect(page.locator("#chat-name")).to_have_text("Joana P. Prado")

    # The supervisor's tab follows live: the chat header and the open panel.
    await expect(boss.page.locator("#chat-name")).to_have_text("Joana P. Prado")
    await expect(boss.page.locator("#cp-name")).to_have_text("Joana P. Prado")
    await expect(boss.page.locator('#contact-panel dd[data-key="plano"]')).to_have_text("ouro")

    # A tag from the company's tags, a chip in its colour, live in the other tab too.
    await panel.locator("#cp-tag-select").select_option(label="VIP")
    await panel.locator("#cp-tag-add").click()
    chip = panel.locator("#cp-tags .tag-chip", has_text="VIP")
    await expect(chip).to_be_visible()
    await expect(chip).to_have_css("border-top-color", "rgb(198, 40, 40)")
    await expect(boss.page.locator("#cp-tags .tag-chip", has_text="VIP")).to_be_visible()
    stored = await client.get(f"/api/contacts/{contact.id}", headers=tenant.headers)
    body = stored.json()
    assert body["name"] == "Joana P. Prado"
    assert body["custom_fields"] == {"nota": NASTY_FIELD, "plano": "ouro", "cidade": "Recife"}
    assert [t["name"] for t in body["tags"]] == ["VIP"]
    await inbox.shot("3-saved-and-tagged")
    await boss.shot("3-live")

    # A past ticket opens in the chat; the current one is a click away again.
    await tickets.nth(1).click()
    await expect(page.locator("#chat-sub")).to_have_attribute("data-status", "closed")
    await expect(page).to_have_url(re.compile(f"#ticket={past.id}$"))
    await expect(tickets.nth(1)).to_have_attribute("aria-current", "true")
    await tickets.first.click()
    await expect(page.locator("#chat-sub")).to_have_attribute("data-status", "open")

    # Typing shows on the customer's phone.
    composer = page.locator("#composer-input")
    await composer.click()
    await page.keyboard.type("Segue o boleto")

    async def typing_shown() -> bool:
        return True in await _sandbox_items(client, tenant, connection_id, "typing")

    await eventually_async(typing_shown, within=10)

    # A file with the text as its caption: shown in the chat, received by the customer.
    await page.set_input_files(
        "#composer-file",
        files=FilePayload(name="boleto.pdf", mimeType="application/pdf", buffer=PDF),
    )
    attachment = page.locator("#composer-attachment")
    await expect(attachment).to_contain_text("boleto.pdf")
    await expect(attachment).to_contain_text(f"{len(PDF)} B")
    await inbox.shot("4-attachment")
    await composer.press("Enter")
    sent = page.locator("#message-list .msg-out").last
    await expect(sent.locator(".msg-body")).to_have_text("Segue o boleto")
    await expect(sent.locator(".msg-media button")).to_contain_text("boleto.pdf")
    await expect(sent.locator(".ticks")).to_have_attribute(
        "data-status", re.compile("sent|delivered|read")
    )
    await expect(attachment).to_be_hidden()
    await expect(composer).to_have_value("")
    received = await _sandbox_items(client, tenant, connection_id, "outbound")
    assert received[-1]["text"] == "Segue o boleto"
    assert received[-1]["media"]["name"] == "boleto.pdf"
    assert received[-1]["media"]["type"] == "document"

    async def typing_stopped() -> bool:
        shown = await _sandbox_items(client, tenant, connection_id, "typing")
        return bool(shown) and shown[-1] is False

    await eventually_async(typing_stopped, within=10)
    await inbox.shot("5-sent-file")

    # An empty file is refused (422): a clear toast, and the file and the text stay.
    await composer.fill("vai vazio")
    await page.set_input_files(
        "#composer-file", files=FilePayload(name="vazio.txt", mimeType="text/plain", buffer=b"")
    )
    await expect(attachment).to_contain_text("vazio.txt")
    await page.click(".send-button")
    await expect(page.locator(".toast-error")).to_contain_text("“vazio.txt” was not sent")
    await expect(page.locator(".toast-error")).to_contain_text("is empty")
    await expect(attachment).to_be_visible()
    await expect(composer).to_have_value("vai vazio")
    await page.click(".attach-remove")
    await expect(attachment).to_be_hidden()
    await expect(page.locator("#composer-attach")).to_be_focused()
    # An image pasted into the composer, or a file dropped on it, is attached the same way.
    for event in ("paste", "drop"):
        await page.evaluate(
            """([kind, png]) => {
              const data = new DataTransfer();
              const bytes = Uint8Array.from(png, (c) => c.charCodeAt(0));
              data.items.add(new File([bytes], `${kind}.png`, {type: "image/png"}));
              const target = document.querySelector(
                kind === "paste" ? "#composer-input" : ".composer");
              const init = {bubbles: true, cancelable: true};
              const event = kind === "paste"
                ? new ClipboardEvent("paste", {...init, clipboardData: data})
                : new DragEvent("drop", {...init, dataTransfer: data});
              target.dispatchEvent(event);
            }""",
            [event, PIXEL.decode("latin-1")],
        )
        await expect(attachment).to_contain_text(f"{event}.png")
    # Sent without a caption, it shows in the chat as an image.
    await composer.fill("")
    await composer.press("Enter")
    await expect(
        page.locator("#message-list .msg-out").last.locator(".msg-image")
    ).to_have_attribute("src", re.compile("^blob:"))
    await expect(attachment).to_be_hidden()
    received = await _sandbox_items(client, tenant, connection_id, "outbound")
    assert received[-1]["media"]["name"] == "drop.png"
    assert received[-1]["media"]["type"] == "image"
    assert received[-1]["text"] == ""

    # At phone width the panel covers the screen; Escape gives the focus back to the toggle.
    await page.set_viewport_size({"width": 390, "height": 780})
    await expect(panel).to_be_visible()
    box = await panel.bounding_box()
    assert box is not None
    assert (box["x"], box["width"]) == (0, 390)
    await inbox.shot("6-phone-panel")
    await panel.locator("#cp-close").focus()
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(toggle).to_be_focused()
    await expect(toggle).to_have_attribute("aria-expanded", "false")

    assert _unexpected(inbox, allowed="/media") == [], inbox.errors
    assert boss.errors == []
    assert inbox.dialogs == []
    assert boss.dialogs == []
