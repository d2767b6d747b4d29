"""The admin's users, tags, quick replies, settings and dashboard in a real browser."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from flows.texts import DEFAULT_TEXTS
from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import PASSWORD, FakeClock, Tenant, log_in, unique, unique_email
from tests.helpers.browser import OpenTab, Tab

PT = DEFAULT_TEXTS["pt-BR"]
_numbers = itertools.count(1)


async def _queue(client: httpx.AsyncClient, tenant: Tenant, name: str) -> int:
    response = await client.post(
        "/api/queues", json={"name": name, "greeting": f"{name} aqui."}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _sandbox(client: httpx.AsyncClient, tenant: Tenant, queue_ids: list[int]) -> int:
    response = await client.post(
        "/api/connections",
        json={"name": unique("Loja"), "channel": "sandbox", "queue_ids": queue_ids},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _customer_writes(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, number: str, text: str
) -> list[str]:
    """A customer writes through the sandbox; returns everything they have received."""
    sent = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": number, "name": "Maria Silva", "text": text},
        headers=tenant.headers,
    )
    assert sent.status_code == 200, sent.text
    received = await client.get(
        f"/api/sandbox/{connection_id}/outbound", params={"to": number}, headers=tenant.headers
    )
    assert received.status_code == 200, received.text
    return [item["text"] for item in received.json()["items"]]


async def _confirm(page: Page) -> None:
    await page.locator("dialog[open] [data-confirm]").click()


async def _set_color(page: Page, selector: str, color: str) -> None:
    await page.locator(selector).evaluate(
        "(element, value) => { element.value = value;"
        " element.dispatchEvent(new Event('input', {bubbles: true})); }",
        color,
    )


def _assert_clean(*tabs: Tab, refused: tuple[str, ...] = ()) -> None:
    """No console errors and no dialogs, except the refusals (e.g. "422 POST /api/users")
    that the test provoked on purpose, with the console's line about each."""
    allowed = [
        re.compile(rf"^{status} {method} http://[^/]+{re.escape(path)}$")
        for status, method, path in (item.split(" ", 2) for item in refused)
    ]
    codes = {item.split(" ", 1)[0] for item in refused}
    for tab in tabs:
        unexpected = [
            error
            for error in tab.errors
            if not any(pattern.match(error) for pattern in allowed)
            and not any(
                error.startswith("console: Failed to load resource: the server responded")
                and f"status of {code} " in error
                for code in codes
            )
        ]
        assert unexpected == [], f"{tab.name}: {tab.errors}"
        assert tab.dialogs == [], f"{tab.name}: {tab.dialogs}"


async def test_an_admin_creates_edits_and_deactivates_an_agent(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    await _queue(client, tenant, "Suporte")
    await _queue(client, tenant, "Financeiro")
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#users", tenant.admin.email)
    me = page.locator(f'tr[data-user-id="{tenant.admin.user.id}"]')
    await expect(me.locator(".ap-dot")).to_have_attribute("data-online", "true")

    await page.click("#user-new")
    form = page.locator("#user-form")
    email = unique_email("ana")
    await form.get_by_label("Name").fill("Ana Souza")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill("short")
    await form.get_by_label("Role").select_option("agent")
    await form.get_by_label("Suporte").check()
    await page.click("#user-save")
    # The API's 422 is shown beside the field it names.
    password_error = form.locator('[data-error-for="password"]')
    await expect(password_error).to_contain_text("at least 8")
    await expect(form.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Password").fill(PASSWORD)
    await page.click("#user-save")
    await expect(form).to_be_hidden()
    row = page.locator("tr", has_text=email)
    await expect(row).to_contain_text("Ana Souza")
    await expect(row).to_contain_text("Agent")
    await expect(row).to_contain_text("Suporte")
    await expect(row.locator(".ap-dot")).to_have_attribute("data-online", "false")
    user_id = int(await row.get_attribute("data-user-id") or 0)
    assert user_id
    await admin.shot("1-created")

    # The new agent signs in to the inbox; the admin sees them come online, live.
    agent = await open_tab("agent")
    await agent.log_in(base_url, "/", email)
    await expect(row.locator(".ap-dot")).to_have_attribute("data-online", "true")

    # A second account with the same email is refused beside the email field.
    await page.click("#user-new")
    await form.get_by_label("Name").fill("Outra Ana")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(PASSWORD)
    await page.click("#user-save")
    await expect(form.locator('[data-error-for="email"]')).to_contain_text("already in use")
    await form.get_by_role("button", name="Cancel").click()

    # Edit: a new name and a supervisor's role; the password is left as it is.
    await row.locator("[data-action=edit]").click()
    await expect(form.get_by_label("Name")).to_have_value("Ana Souza")
    await form.get_by_label("Name").fill("Ana Souza Lima")
    await form.get_by_label("Role").select_option("supervisor")
    await page.click("#user-save")
    await expect(row).to_contain_text("Ana Souza Lima")
    await expect(row).to_contain_text("Supervisor")
    assert (await log_in(client, email)).status_code == 200

    # Deactivate, after a confirmation: the account can no longer sign in.
    await row.locator("[data-action=deactivate]").click()
    await _confirm(page)
    await expect(row).to_have_attribute("data-active", "false")
    await expect(row.locator("[data-action=reactivate]")).to_be_visible()
    assert (await log_in(client, email)).status_code == 401
    await admin.shot("2-deactivated")

    await row.locator("[data-action=reactivate]").click()
    await expect(row).to_have_attribute("data-active", "true")
    assert (await log_in(client, email)).status_code == 200

    # Delete, after a confirmation; oneself can be neither deleted nor deactivated.
    await expect(me.locator("[data-action=delete]")).to_have_count(0)
    await expect(me.locator("[data-action=deactivate]")).to_have_count(0)
    await row.locator("[data-action=delete]").click()
    await _confirm(page)
    await expect(row).to_have_count(0)
    assert (await client.get(f"/api/users/{user_id}", headers=tenant.headers)).status_code == 404
    _assert_clean(admin, refused=("422 POST /api/users", "409 POST /api/users"))


async def test_tags_and_quick_replies_and_the_composer_offers_them(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte = await _queue(client, tenant, "Suporte")
    connection_id = await _sandbox(client, tenant, [suporte])
    agent_member = await tenant.member(Role.agent)
    joined = await client.patch(
        f"/api/users/{agent_member.user.id}", json={"queue_ids": [suporte]}, headers=tenant.headers
    )
    assert joined.status_code == 200, joined.text

    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#tags", tenant.admin.email)
    # Tags: create, a duplicate name refused beside the field, rename and recolour, delete.
    await page.click("#tag-new")
    form = page.locator("#tag-form")
    await form.get_by_label("Name").fill("VIP")
    await _set_color(page, "#tag-form input[type=color]", "#d81b60")
    await page.click("#tag-save")
    row = page.locator("tr", has_text="VIP")
    await expect(row).to_contain_text("#d81b60")
    await page.click("#tag-new")
    await form.get_by_label("Name").fill("vip")
    await page.click("#tag-save")
    await expect(form.locator('[data-error-for="name"]')).to_contain_text("already taken")
    await form.get_by_role("button", name="Cancel").click()
    await row.locator("[data-action=edit]").click()
    await form.get_by_label("Name").fill("Cliente VIP")
    await _set_color(page, "#tag-form input[type=color]", "#ffeb3b")
    await page.click("#tag-save")
    renamed = page.locator("tr", has_text="Cliente VIP")
    await expect(renamed).to_contain_text("#ffeb3b")
    tags = (await client.get("/api/tags", headers=tenant.headers)).json()["items"]
    assert [(tag["name"], tag["color"]) for tag in tags] == [("Cliente VIP", "#ffeb3b")]
    await admin.shot("1-tags")
    await renamed.locator("[data-action=delete]").click()
    await _confirm(page)
    await expect(page.locator("#section-tags")).to_contain_text("No tags yet.")

    # Quick replies: a bad shortcut is a 422 beside it; then create, edit, and one deleted.
    await page.click("#nav-quick-replies")
    await page.click("#qr-new")
    form = page.locator("#qr-form")
    await form.get_by_label("Shortcut").fill("bom dia")
    await form.get_by_label("Text").fill("Bom dia! Como posso ajudar?")
    await page.click("#qr-save")
    await expect(form.locator('[data-error-for="shortcut"]')).not_to_be_empty()
    await form.get_by_label("Shortcut").fill("/saudacao")
    await page.click("#qr-save")
    row = page.locator("tr", has_text="/saudacao")
    await expect(row).to_contain_text("Bom dia! Como posso ajudar?")
    await row.locator("[data-action=edit]").click()
    await form.get_by_label("Text").fill("Bom dia, {nome}! Como posso ajudar?")
    await page.click("#qr-save")
    await expect(row).to_contain_text("Bom dia, {nome}!")
    await page.click("#qr-new")
    await form.get_by_label("Shortcut").fill("tchau")
    await form.get_by_label("Text").fill("Até logo!")
    await page.click("#qr-save")
    bye = page.locator("tr", has_text="/tchau")
    await bye.locator("[data-action=delete]").click()
    await _confirm(page)
    await expect(bye).to_have_count(0)
    await admin.shot("2-quick-replies")

    # The agent's composer offers it on "/".
    number = f"+55219{next(_numbers):08d}"
    for text in ("oi", "1"):
        await _customer_writes(client, tenant, connection_id, number, text)
    agent = await open_tab("agent")
    await agent.log_in(base_url, "/", agent_member.email)
    await agent.page.click("#tab-waiting")
    await agent.page.locator(".ticket-item", has_text="Maria Silva").click()
    await agent.page.click("[data-action=accept]")
    await expect(agent.page.locator("#chat-sub")).to_have_attribute("data-status", "open")
    composer = agent.page.locator("#composer-input")
    await composer.focus()
    await agent.page.keyboard.type("/sau")
    offered = agent.page.locator("#quick-replies .quick-reply")
    await expect(offered).to_have_count(1)
    await expect(offered).to_contain_text("Bom dia, {nome}!")
    await agent.page.keyboard.press("Enter")
    await expect(composer).to_have_value("Bom dia, {nome}! Como posso ajudar?")
    await agent.shot("3-composer")
    _assert_clean(admin, agent, refused=("409 POST /api/tags", "422 POST /api/quick-replies"))


async def test_a_new_menu_text_in_pt_br_reaches_the_customer(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte = await _queue(client, tenant, "Suporte")
    vendas = await _queue(client, tenant, "Vendas")
    connection_id = await _sandbox(client, tenant, [suporte, vendas])
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#settings", tenant.admin.email)
    form = page.locator("#settings-form")
    await expect(form.get_by_label("Language of the bot")).to_have_value("pt-BR")
    header = page.locator("#settings-text-menu_header")
    # Empty: the default text is what the bot uses, and it shows as the placeholder.
    await expect(header).to_have_value("")
    await expect(header).to_have_attribute("placeholder", PT["menu_header"])
    await expect(page.locator("#settings-variables")).to_contain_text("{{first_name}}")
    await expect(page.locator("#settings-variables")).to_contain_text("{{protocol}}")
    # The placeholders follow the bot's language.
    await form.get_by_label("Language of the bot").select_option("en")
    await expect(header).to_have_attribute("placeholder", DEFAULT_TEXTS["en"]["menu_header"])
    await form.get_by_label("Language of the bot").select_option("pt-BR")

    # A 422 lands beside its field and nothing is saved.
    await form.get_by_label("Wait for the rating for (minutes)").fill("0")
    await header.fill("Escolha uma opção, {{first_name}}:")
    await page.click("#settings-save")
    await expect(form.locator('[data-error-for="csat_timeout_minutes"]')).not_to_be_empty()
    stored = (await client.get("/api/settings", headers=tenant.headers)).json()
    assert stored["bot_texts"] == {}

    await form.get_by_label("Wait for the rating for (minutes)").fill("30")
    await page.click("#settings-save")
    await expect(page.locator("#toasts")).to_contain_text("Settings saved.")
    stored = (await client.get("/api/settings", headers=tenant.headers)).json()
    assert stored["bot_texts"] == {"menu_header": "Escolha uma opção, {{first_name}}:"}
    assert stored["csat_timeout_minutes"] == 30
    await page.reload()
    await expect(page.locator("#settings-text-menu_header")).to_have_value(
        "Escolha uma opção, {{first_name}}:"
    )
    await admin.shot("1-settings")
    await page.locator("#settings-texts-title").scroll_into_view_if_needed()
    await admin.shot("2-bot-texts")

    received = await _customer_writes(client, tenant, connection_id, "+5511977776666", "oi")
    assert any(text.startswith("Escolha uma opção, Maria:\n1 - Suporte") for text in received), (
        received
    )
    assert not any(PT["menu_header"] in text for text in received)

    # English texts, for contacts who speak it; what was typed survives a switch back.
    texts_in = form.get_by_label("Texts in")
    await texts_in.select_option("en")
    await expect(header).to_have_value("")
    await expect(header).to_have_attribute("placeholder", DEFAULT_TEXTS["en"]["menu_header"])
    await header.fill("Pick one, {{first_name}}:")
    await texts_in.select_option("pt-BR")
    await expect(header).to_have_value("Escolha uma opção, {{first_name}}:")
    await texts_in.select_option("en")
    await expect(header).to_have_value("Pick one, {{first_name}}:")
    await page.click("#settings-save")
    await expect(page.locator("#toasts")).to_contain_text("Settings saved.")
    stored = (await client.get("/api/settings", headers=tenant.headers)).json()
    assert stored["bot_texts_by_language"] == {
        "pt-BR": {"menu_header": "Escolha uma opção, {{first_name}}:"},
        "en": {"menu_header": "Pick one, {{first_name}}:"},
    }
    received = await _customer_writes(client, tenant, connection_id, "+14155550100", "hi")
    assert any(text.startswith("Pick one, Maria:\n1 - Suporte") for text in received), received
    _assert_clean(admin, refused=("422 PATCH /api/settings",))


class _Day:
    """Moments of today (UTC) before now, so that a seeded history is always "today"."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.start = self.now.replace(hour=0, minute=0, second=0, microsecond=0)

    def at(self, fraction: float) -> datetime:
        return self.start + (self.now - self.start) * fraction


async def _seed_today(tenant: Tenant, clock: FakeClock) -> int:
    """One waiting, one closed (answered after 2 min, rated 4), one with the bot."""
    day = _Day(clock())
    company = tenant.company
    queue = await Queue.create(company=company, name="Suporte")
    connection = await Connection.create(company=company, name=unique("conn"))

    async def ticket(**fields: Any) -> Ticket:
        contact = await Contact.create(
            company=company, number=f"+55419{next(_numbers):08d}", name=unique("Cliente")
        )
        return await Ticket.create(
            company=company, contact=contact, connection=connection, **fields
        )

    await ticket(
        queue=queue, status=TicketStatus.pending, created_at=day.at(0.5), handed_off_at=day.at(0.5)
    )
    handed_off = day.at(0.2)
    closed = await ticket(
        queue=queue,
        status=TicketStatus.closed,
        created_at=handed_off,
        handed_off_at=handed_off,
        closed_at=day.at(0.3),
        rating=4,
    )
    await Message.create(
        company=company,
        ticket=closed,
        connection=connection,
        direction=Direction.outbound,
        body="Olá!",
        status=MessageStatus.sent,
        created_at=handed_off + timedelta(seconds=120),
    )
    await ticket(status=TicketStatus.bot, created_at=day.at(0.4))
    return queue.id


# The pipeline's tickets are stamped with the machine's time (auto_now_add), not the app's
# clock, and the dashboard's "today" is the clock's: until they agree, this test runs at the
# machine's time.
@pytest.mark.usefixtures("clock_at_machine_time")
async def test_the_dashboard_shows_today_live_and_exports_csv(
    client: httpx.AsyncClient,
    tenant: Tenant,
    open_tab: OpenTab,
    base_url: str,
    clock: FakeClock,
) -> None:
    # Counted in UTC, the time zone the seeded "today" is built in.
    settings = await client.patch("/api/settings", json={"timezone": "UTC"}, headers=tenant.headers)
    assert settings.status_code == 200, settings.text
    queue_id = await _seed_today(tenant, clock)
    connection_id = await _sandbox(client, tenant, [queue_id])

    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#dashboard", tenant.admin.email)
    value = page.locator
    await expect(value("[data-value=waiting]")).to_have_text("1")
    await expect(value("#dash-waiting")).to_contain_text("oldest for")
    await expect(value("[data-value=created]")).to_have_text("3")
    await expect(value("[data-value=closed]")).to_have_text("1")
    await expect(value("[data-value=first-response]")).to_have_text("2 min")
    await expect(value("[data-value=csat]")).to_have_text("4 / 5")
    await expect(value("#dash-csat")).to_contain_text("ratings: 1")
    for status, count in (("bot", "1"), ("pending", "1"), ("open", "0"), ("closed", "1")):
        await expect(value(f"[data-count={status}]")).to_have_text(count)
    suporte = value(f'tr[data-queue-id="{queue_id}"]')
    await expect(suporte).to_have_text(re.compile(r"Suporte\s*0\s*1\s*0\s*1"))
    await expect(value('tr[data-queue-id="none"]')).to_have_text(
        re.compile(r"No queue\s*1\s*0\s*0\s*0")
    )
    await admin.shot("1-seeded")

    # A customer writes and, the connection having one queue, waits in it at once: the
    # figures follow by themselves.
    await _customer_writes(client, tenant, connection_id, "+5511966665555", "oi")
    await expect(value("[data-value=created]")).to_have_text("4")
    await expect(value("[data-value=waiting]")).to_have_text("2")
    await expect(value("[data-count=pending]")).to_have_text("2")
    await expect(suporte).to_have_text(re.compile(r"Suporte\s*0\s*2\s*0\s*1"))
    await admin.shot("2-live")

    async with page.expect_download() as waiting_download:
        await page.click("#dash-export")
    download = await waiting_download.value
    assert re.fullmatch(r"atende-dashboard-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    csv = (await download.path()).read_text(encoding="utf-8-sig")
    lines = csv.splitlines()
    assert "created,4" in lines
    assert "waiting_now,2" in lines
    assert "closed,1" in lines
    assert "csat_average,4" in lines
    assert "first_response_average_seconds,120" in lines
    assert f"{queue_id},Suporte,0,2,0,1" in lines
    _assert_clean(admin)


async def test_every_section_at_phone_width_in_dark_and_what_a_supervisor_sees(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    phone = await open_tab("phone", width=390, height=800, color_scheme="dark")
    page = phone.page
    await phone.log_in(base_url, "/admin", tenant.admin.email)
    for section, ready in (
        ("dashboard", "#dash-status"),
        ("users", "tr[data-user-id]"),
        ("tags", "#tag-new"),
        ("quick-replies", "#qr-new"),
        ("settings", "#settings-form"),
    ):
        await page.click(f"#nav-{section}")
        await expect(page.locator(ready).first).to_be_visible()
        if section == "users":
            await page.click("#user-new")
        await phone.shot(section)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{section} is {width}px wide"

    supervisor = await tenant.member(Role.supervisor)
    tab = await open_tab("supervisor")
    await tab.log_in(base_url, "/admin", supervisor.email)
    nav = tab.page.locator("#admin-nav")
    await expect(nav.locator("#nav-dashboard")).to_be_visible()
    await expect(nav.locator("#nav-tags")).to_be_visible()
    await expect(nav.locator("#nav-quick-replies")).to_be_visible()
    await expect(nav.locator("#nav-users")).to_have_count(0)
    await expect(nav.locator("#nav-settings")).to_have_count(0)
    await expect(tab.page.locator("[data-value=waiting]")).to_have_text("0")
    # In Portuguese, the sections speak Portuguese.
    await tab.page.locator("#controls select").select_option("pt-BR")
    await expect(nav.locator("#nav-dashboard")).to_have_text("Painel")
    await expect(nav.locator("#nav-quick-replies")).to_have_text("Respostas rápidas")
    await expect(tab.page.locator("#dash-waiting")).to_contain_text("Aguardando agora")
    await tab.shot("pt-BR")
    _assert_clean(phone, tab)
