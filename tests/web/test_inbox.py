"""The inbox and the phone simulator in a real browser: a whole conversation, live, across
tabs; what another queue's agent never sees; customers' HTML shown as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.async_api import expect

from flows.texts import DEFAULT_TEXTS
from service.events import message_updated
from service.media import store_media
from service.tickets.models import Direction, Message, MessageStatus, TicketStatus
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

PT = DEFAULT_TEXTS["pt-BR"]
TICKET_EVENTS = ("ticket.created", "ticket.updated", "message.created", "message.updated")


async def _open_chat(sim: Tab, connection_id: int, number: str, name: str) -> None:
    page = sim.page
    await page.select_option("#sim-connection", str(connection_id))
    await page.fill("#sim-number", number)
    await page.fill("#sim-name", name)
    await page.click("#sim-open")
    await expect(page.locator("#phone")).to_be_visible()


async def _write(sim: Tab, text: str) -> None:
    """The customer sends `text`; done when the simulator shows it as delivered to the server."""
    page = sim.page
    sent_before = await page.locator(".msg-customer").count()
    await page.fill("#phone-input", text)
    await page.press("#phone-input", "Enter")
    mine = page.locator(".msg-customer")
    await expect(mine).to_have_count(sent_before + 1)
    await expect(mine.last.locator(".ticks")).to_have_text("✓")


async def _record_ticket_items(tab: Tab) -> None:
    """From now on, remember the id of every ticket the page ever lists."""
    await tab.page.evaluate(
        """() => {
          window.__seenTickets = new Set();
          const note = (node) => {
            if (!(node instanceof Element)) return;
            for (const item of [node, ...node.querySelectorAll('.ticket-item')]) {
              if (item.matches('.ticket-item')) window.__seenTickets.add(Number(item.dataset.id));
            }
          };
          document.querySelectorAll('.ticket-item').forEach(note);
          new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach(note)))
            .observe(document.body, {childList: true, subtree: true});
        }"""
    )


def _ticket_frames(tab: Tab, ticket_id: int) -> list[dict[str, Any]]:
    """The socket frames this tab received about the ticket (its removal aside)."""
    found = []
    for frame in tab.frames:
        data = frame.get("data") or {}
        if frame.get("type") not in TICKET_EVENTS:
            continue
        key = "ticket_id" if frame["type"].startswith("message.") else "id"
        if data.get(key) == ticket_id:
            found.append(frame)
    return found


def _assert_clean(*tabs: Tab) -> None:
    for tab in tabs:
        assert tab.errors == [], f"{tab.name}: {tab.errors}"
        assert tab.dialogs == [], f"{tab.name}: {tab.dialogs}"


async def test_a_whole_conversation_live_between_the_simulator_and_the_inbox(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte = await make_colored_queue(client, tenant, "Suporte", "Você está no Suporte.")
    financeiro = await make_colored_queue(client, tenant, "Financeiro", "Financeiro aqui.")
    connection_id = await make_sandbox(client, tenant, [suporte, financeiro])
    agent = await agent_of(client, tenant, suporte)
    other = await agent_of(client, tenant, financeiro)

    # The agents are in their inboxes, on "Waiting", before the customer writes.
    inbox = await open_tab("agent")
    outsider = await open_tab("other-queue")
    for tab, member in ((inbox, agent), (outsider, other)):
        await tab.log_in(base_url, "/", member.email)
        await show_tab(tab, "waiting")
    await _record_ticket_items(outsider)
    await inbox.shot("1-before")

    sim = await open_tab("simulator", width=900)
    await sim.log_in(base_url, "/simulator", tenant.admin.email)
    await _open_chat(sim, connection_id, "+55 11 98888-7777", "Maria Silva")
    await _write(sim, "oi")
    phone = sim.page.locator("#phone-messages")
    await expect(phone).to_contain_text("Olá Maria!")
    await expect(phone).to_contain_text("1 - Suporte")
    await sim.shot("2-menu")
    await _write(sim, "1")
    await expect(phone).to_contain_text("Você está no Suporte.")

    # The pending ticket shows up live in the Suporte agent's "Waiting" list.
    item = inbox.page.locator(".ticket-item", has_text="Maria Silva")
    await expect(item).to_be_visible()
    await expect(inbox.page.locator("#count-waiting")).to_have_text("1")
    ticket_id = int(await item.get_attribute("data-id") or 0)
    assert ticket_id
    # It rang: a beep and a desktop notification naming the customer and the queue.
    await inbox.page.wait_for_function("window.__alerts.notifications.length > 0")
    alerts = await inbox.page.evaluate("window.__alerts")
    assert alerts["notifications"] == [
        {"title": "New ticket waiting", "body": "Maria Silva in Suporte"}
    ]
    assert alerts["oscillators"] > 0
    await inbox.shot("3-waiting")

    await item.click()
    chat = inbox.page.locator("#message-list")
    await expect(chat).to_contain_text("oi")
    await expect(inbox.page.locator("#chat-name")).to_have_text("Maria Silva")
    await inbox.page.click("[data-action=accept]")
    await expect(inbox.page.locator("#chat-sub")).to_have_attribute("data-status", "open")
    await expect(inbox.page.locator("#count-waiting")).to_have_text("")
    await inbox.page.fill("#composer-input", "Olá Maria, aqui é do Suporte!")
    await inbox.page.press("#composer-input", "Enter")
    reply = chat.locator(".msg-out", has_text="aqui é do Suporte")
    await expect(reply.locator(".ticks")).to_have_attribute(
        "data-status", re.compile("sent|delivered|read")
    )
    await expect(phone).to_contain_text("Olá Maria, aqui é do Suporte!")
    await inbox.shot("4-replied")
    await sim.shot("4-replied")

    await inbox.page.click("[data-action=close]")
    await expect(inbox.page.locator("#chat-sub")).to_have_attribute("data-status", "closed")
    question = PT["csat_question"].replace("{{agent}}", agent.user.name)
    await expect(phone).to_contain_text(question)
    await expect(chat).to_contain_text(question)
    await sim.shot("5-rating-question")

    await _write(sim, "5")
    await expect(phone).to_contain_text(PT["csat_thanks"].replace("{{first_name}}", "Maria"))
    await expect(inbox.page.locator("#chat-rating")).to_contain_text("5/5")
    await inbox.page.click("#tab-closed")
    closed = inbox.page.locator(f'.ticket-item[data-id="{ticket_id}"]')
    await expect(closed.locator(".stars")).to_have_text("★ 5")
    await inbox.shot("6-rated")
    await sim.shot("6-rated")

    # The other queue's agent never saw it: not listed, not on the socket, not in any tab.
    assert ticket_id not in await outsider.page.evaluate("[...window.__seenTickets]")
    assert _ticket_frames(outsider, ticket_id) == []
    assert _ticket_frames(inbox, ticket_id)  # the same feed did carry it to the right agent
    assert await outsider.page.evaluate("window.__alerts") == {
        "notifications": [],
        "oscillators": 0,
    }
    for tab_name in ("mine", "waiting", "closed"):
        await show_tab(outsider, tab_name)
        await expect(outsider.page.locator("#ticket-list .list-empty")).to_be_visible()
    await outsider.shot("7-never-saw-it")
    _assert_clean(inbox, outsider, sim)


NASTY_NAME = "<img src=x onerror=alert(1)>"
NASTY_TEXT = "<script>alert(2)</script><b>x</b>"


async def test_customers_html_is_shown_as_text(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    vendas = await make_colored_queue(client, tenant, "Vendas", "Bem-vindo às Vendas.")
    connection_id = await make_sandbox(client, tenant, [vendas])
    inbox = await open_tab("inbox")
    await inbox.log_in(base_url, "/", tenant.admin.email)
    await show_tab(inbox, "waiting")
    sim = await open_tab("simulator", width=900)
    await sim.log_in(base_url, "/simulator", tenant.admin.email)
    await _open_chat(sim, connection_id, "+5511977776666", NASTY_NAME)
    await _write(sim, NASTY_TEXT)
    await expect(sim.page.locator("#phone-messages")).to_contain_text("Bem-vindo às Vendas.")

    item = inbox.page.locator(".ticket-item").first
    await expect(item.locator(".ticket-name")).to_have_text(NASTY_NAME)
    await item.click()
    await expect(inbox.page.locator("#chat-name")).to_have_text(NASTY_NAME)
    customer = inbox.page.locator("#message-list .msg-in .msg-body")
    await expect(customer).to_have_text(NASTY_TEXT)
    await expect(sim.page.locator(".msg-customer .msg-body")).to_have_text(NASTY_TEXT)
    await expect(sim.page.locator("#phone-sub")).to_contain_text(NASTY_NAME)
    # The bot greets by first name: that is customer text too.
    await expect(sim.page.locator("#phone-messages")).to_contain_text("Olá <img!")
    await inbox.shot("1-inbox")
    await sim.shot("1-simulator")

    for tab in (inbox, sim):
        made = await tab.page.evaluate(
            "({tags: document.querySelectorAll('img, b, iframe, object').length,"
            " scripts: [...document.scripts].map((s) => s.src)})"
        )
        assert made["tags"] == 0, tab.name
        assert len(made["scripts"]) == 1, made
        assert made["scripts"][0].startswith(base_url), made
    _assert_clean(inbox, sim)


async def test_agent_tools_by_keyboard_at_phone_width_in_three_languages(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte = await make_colored_queue(client, tenant, "Suporte", "Você está no Suporte.")
    financeiro = await make_colored_queue(client, tenant, "Financeiro", "Financeiro aqui.")
    connection_id = await make_sandbox(client, tenant, [suporte, financeiro])
    agent = await agent_of(client, tenant, suporte)
    other = await agent_of(client, tenant, financeiro)
    quick = await client.post(
        "/api/quick-replies",
        json={"shortcut": "ola", "text": "Olá! Em que posso ajudar?"},
        headers=tenant.headers,
    )
    assert quick.status_code == 201, quick.text
    number = "+5511955554444"
    await customer_waits_in(client, tenant, connection_id, number)

    colleague = await open_tab("financeiro")
    await colleague.log_in(base_url, "/", other.email)
    await show_tab(colleague, "waiting")
    phone = await open_tab("phone", width=390, height=780)
    page = phone.page
    await phone.log_in(base_url, "/", agent.email)
    # A reload keeps the login (the refresh token is this tab's) and the feed comes back.
    await page.reload()
    await expect(page.locator("#live")).to_have_attribute("data-state", "online")
    await show_tab(phone, "waiting")
    await phone.shot("1-list")

    # At phone width the chat replaces the list, and "back" brings the list back.
    await page.locator(".ticket-item", has_text="Joana Prado").click()
    await expect(page.locator("#ticket-list")).to_be_hidden()
    await expect(page.locator("#chat-name")).to_have_text("Joana Prado")
    accept = page.locator("[data-action=accept]")
    await accept.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#chat-sub")).to_have_attribute("data-status", "open")

    # The socket drops; what happens meanwhile arrives once it is back (since=<last id>).
    await page.evaluate("window.__sockets.at(-1).close()")
    await expect(page.locator("#live")).to_have_attribute("data-state", "offline")
    sent = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": number, "text": "ainda aí?"},
        headers=tenant.headers,
    )
    assert sent.status_code == 200, sent.text
    await expect(page.locator("#live")).to_have_attribute("data-state", "online")
    await expect(page.locator("#message-list .msg-in").last).to_have_text(re.compile("ainda aí"))
    assert "since=" in await page.evaluate("window.__sockets.at(-1).url")

    # "/" opens the quick replies; Enter picks one, Enter again sends it.
    composer = page.locator("#composer-input")
    await composer.focus()
    await page.keyboard.type("/ol")
    await expect(page.locator("#quick-replies .quick-reply")).to_have_count(1)
    await phone.shot("2-quick-replies")
    await page.keyboard.press("Enter")
    await expect(composer).to_have_value("Olá! Em que posso ajudar?")
    await page.keyboard.press("Enter")
    messages = page.locator("#message-list")
    await expect(messages.locator(".msg-out").last).to_contain_text("Em que posso ajudar?")
    # Shift+Enter is a new line, not a send.
    await page.keyboard.type("linha 1")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("linha 2")
    await page.keyboard.press("Enter")
    await expect(messages.locator(".msg-out .msg-body").last).to_have_text("linha 1\nlinha 2")
    # An internal note is shown apart and never reaches the customer.
    await page.click(".note-toggle")
    await page.keyboard.type("cliente VIP")
    await page.keyboard.press("Enter")
    await expect(messages.locator(".msg-note")).to_contain_text("cliente VIP")
    await phone.shot("3-note")
    received = await client.get(
        f"/api/sandbox/{connection_id}/outbound", params={"to": number}, headers=tenant.headers
    )
    texts = [item["text"] for item in received.json()["items"]]
    assert "linha 1\nlinha 2" in texts
    assert "cliente VIP" not in texts

    # UI languages, and the theme toggle.
    language = page.locator(".topbar select").first
    for lang, mine in (("pt-BR", "Meus"), ("es", "Míos"), ("en", "Mine")):
        await language.select_option(lang)
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("#tab-mine")).to_contain_text(mine)
    await language.select_option("pt-BR")
    await expect(page.locator("[data-action=transfer]")).to_have_text("Transferir")
    before = await page.locator("html").get_attribute("data-theme")
    await page.locator(".topbar .icon-button", has_text=re.compile("[☾☀]")).click()
    after = await page.locator("html").get_attribute("data-theme")
    assert {before, after} == {"light", "dark"}
    await phone.shot("4-pt-br-theme")
    missing = await page.evaluate(
        """async () => {
          const {DICTIONARIES} = await import('/web/app/js/i18n.js');
          const keys = Object.keys(DICTIONARIES.en);
          return Object.entries(DICTIONARIES).flatMap(([lang, texts]) =>
            keys.filter((key) => !(key in texts)).map((key) => `${lang}:${key}`));
        }"""
    )
    assert missing == []

    # Transfer to Financeiro: it leaves this agent and shows up live for that queue's agent.
    await page.click("[data-action=transfer]")
    dialog = page.locator("dialog")
    await dialog.locator("#transfer-queue").select_option(str(financeiro))
    await phone.shot("5-transfer")
    await dialog.locator("button[type=submit]").click()
    # At phone width the list comes back, with a word on why the chat went away.
    await expect(page.locator(".toast")).to_contain_text("saiu das suas listas")
    await expect(page.locator("#ticket-list")).to_be_visible()
    await expect(page.locator(".ticket-item", has_text="Joana Prado")).to_have_count(0)
    await expect(colleague.page.locator(".ticket-item", has_text="Joana Prado")).to_be_visible()
    await expect(colleague.page.locator("#count-waiting")).to_have_text("1")
    await phone.shot("6-transferred")
    await colleague.shot("6-transferred")
    _assert_clean(phone, colleague)


async def test_history_scrolls_back_with_ticks_failures_notes_and_files(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    ticket = await make_ticket(tenant, status=TicketStatus.open, user=tenant.admin.user)
    base = {"company_id": tenant.company.id, "ticket_id": ticket.id}
    base["connection_id"] = ticket.connection_id  # type: ignore[attr-defined]
    older = [
        Message(
            **base, direction=Direction.inbound, body=f"mensagem {n}", status=MessageStatus.read
        )
        for n in range(1, 121)
    ]
    await Message.bulk_create(older)
    stored = await store_media(
        media_dir=app.ctx.settings.effective_media_dir,
        company_id=tenant.company.id,
        data=PIXEL,
        mime="image/png",
        filename="foto.png",
        now=datetime.now(UTC),
    )
    await Message.create(
        **base,
        direction=Direction.inbound,
        body="",
        media_type="image",
        media_path=stored.path,
        media_name="foto.png",
        media_mime="image/png",
        media_size=len(PIXEL),
    )
    await Message.create(
        **base, direction=Direction.inbound, media_type="document", media_name="big.pdf"
    )
    await Message.create(
        **base,
        direction=Direction.outbound,
        body="nota <b>interna</b>",
        is_note=True,
        status=MessageStatus.sent,
        sender_user_id=tenant.admin.user.id,
    )
    sending = await Message.create(
        **base,
        direction=Direction.outbound,
        body="vai chegar",
        status=MessageStatus.sent,
        sender_user_id=tenant.admin.user.id,
    )
    failing = await Message.create(
        **base,
        direction=Direction.outbound,
        body="não vai",
        status=MessageStatus.pending,
        sender_user_id=tenant.admin.user.id,
    )

    tab = await open_tab("history")
    await tab.log_in(base_url, f"/#ticket={ticket.id}", tenant.admin.email)
    page = tab.page
    messages = page.locator("#message-list > li")
    await expect(messages).to_have_count(50)  # the newest page, opened from the link
    await expect(messages.last).to_contain_text("não vai")
    await expect(page.locator(".msg-note")).to_have_text(re.compile("nota <b>interna</b>"))
    # The stored image shows (fetched with the token, as a blob: URL); the other is named.
    image = page.locator(".msg-image")
    await expect(image).to_have_attribute("src", re.compile("^blob:"))
    assert await image.evaluate("(img) => img.complete && img.naturalWidth") == 1
    await expect(page.locator(".msg-media.muted")).to_contain_text("big.pdf")
    await tab.shot("1-newest")

    # Scrolling up loads the older pages, keeping what was on screen in place.
    scroller = page.locator(".messages")
    for count in (100, 125):
        await scroller.evaluate("(el) => { el.scrollTop = 0; }")
        await expect(messages).to_have_count(count)
    await expect(page.locator(".history-note")).to_have_text("Start of the conversation")
    await expect(messages.first).to_contain_text("mensagem 1")
    await tab.shot("2-history")

    # Ticks follow the receipts live; a failure shows its reason.
    broker = app.ctx.broker
    sending.status = MessageStatus.read
    await sending.save()
    await broker.publish(message_updated(sending))
    failing.status = MessageStatus.failed
    failing.error = "número sem WhatsApp"
    await failing.save()
    await broker.publish(message_updated(failing))
    row = page.locator(f'#message-list > li[data-id="{sending.id}"] .ticks')
    await expect(row).to_have_attribute("data-status", "read")
    failed = page.locator(f'#message-list > li[data-id="{failing.id}"]')
    await expect(failed.locator(".msg-error")).to_have_text("Not sent: número sem WhatsApp")
    await scroller.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    await tab.shot("3-ticks")
    _assert_clean(tab)


async def test_the_login_renews_itself_survives_a_reload_and_ends_on_logout(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    tab = await open_tab("session")
    page = tab.page
    await page.clock.install()
    await tab.log_in(base_url, "/", tenant.admin.email)
    # Before the access token's 15 minutes are up, a new pair is fetched in the background.
    async with page.expect_response("**/api/auth/refresh") as renewed:
        await page.clock.fast_forward("14:30")
    assert (await renewed.value).status == 200
    await show_tab(tab, "closed")
    await expect(page.locator("#login-view")).to_be_hidden()
    # Only the refresh token is stored, and only for this tab.
    stored = await page.evaluate(
        "({local: {...localStorage}, session: Object.keys(sessionStorage)})"
    )
    assert stored["session"] == ["atende.refresh"]
    assert not any(value.startswith("eyJ") for value in stored["local"].values())
    await page.reload()
    await expect(page.locator("#live")).to_have_attribute("data-state", "online")
    await expect(page.locator("#me")).to_have_text(tenant.admin.user.name)

    await page.click("#logout")
    await expect(page.locator("#login-email")).to_be_visible()
    assert await page.evaluate("Object.keys(sessionStorage)") == []
    await page.reload()
    await expect(page.locator("#login-email")).to_be_visible()
    await tab.shot("1-logged-out")
    _assert_clean(tab)
