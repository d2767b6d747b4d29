"""The admin's queues (menu tree, business hours) and connections (status and WhatsApp login
live) in a real browser, on a real server; WhatsApp itself is the tests' fake channel."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import expect

from service.users.models import Role
from tests.factories import Tenant, unique
from tests.helpers.browser import OpenTab, Tab
from tests.helpers.whatsapp import (
    PAIRING_CODE,
    FakeWhatsAppFactory,
    make_whatsapp,
    post,
    whatsapp,
)

__all__ = ["whatsapp"]  # fixture


def _clean(tab: Tab, *, expected: tuple[str, ...] = ()) -> None:
    """No console errors, no failed requests but the `expected` ones (a status and a URL
    part, e.g. "422 PATCH"), and the console lines the browser logs for exactly those."""
    unexpected = []
    for error in tab.errors:
        if error.startswith("console: Failed to load resource") and any(
            e.split()[0] in error for e in expected
        ):
            continue
        if any(error.startswith(e) for e in expected):
            continue
        unexpected.append(error)
    assert unexpected == [], f"{tab.name}: {unexpected}"
    assert tab.dialogs == [], f"{tab.name}: {tab.dialogs}"


async def _queue(client: httpx.AsyncClient, tenant: Tenant, name: str) -> dict[str, Any]:
    response = await client.post(
        "/api/queues", json={"name": name, "color": "#c62828"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _no_overflow(tab: Tab) -> None:
    """Nothing wider than the phone's screen (the page scrolls down, never sideways)."""
    widths = await tab.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.querySelector('#admin-main').scrollWidth,"
        " document.querySelector('#admin-main').clientWidth]"
    )
    assert widths[0] <= widths[1] + 1, widths
    assert widths[2] <= widths[3] + 1, widths


async def test_an_admin_builds_a_queue_menu_with_hours_and_sees_errors_in_place(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    financeiro = await _queue(client, tenant, "Financeiro")
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#queues", tenant.admin.email)
    await expect(page.locator("#section-queues")).to_contain_text("Financeiro")
    await page.click("#queue-new")
    await expect(page.locator("#queue-form")).to_be_visible()

    await page.get_by_label("Name", exact=True).fill("Suporte")
    await page.get_by_label("Greeting").fill("Você está no Suporte.")
    # Option 1 forwards to Financeiro; option 2 is a submenu with one option that ends.
    await page.click('[data-add-to="options"]')
    first = page.locator('[data-path="options.0"]')
    await expect(first.locator("[data-part=title]")).to_be_focused()
    await first.locator("[data-part=title]").fill("Segunda via")
    await first.locator("[data-part=action]").select_option("queue")
    await first.locator("[data-part=queue_id]").select_option(str(financeiro["id"]))
    await page.click('[data-add-to="options"]')
    second = page.locator('[data-path="options.1"]')
    await second.locator("[data-part=title]").fill("Dúvidas")
    # By keyboard: the "add sub-option" tool of option 2.
    await second.locator("> .qt-head [data-tool=child]").focus()
    await page.keyboard.press("Enter")
    child = page.locator('[data-path="options.1.children.0"]')
    await expect(child.locator("[data-part=title]")).to_be_focused()
    await page.keyboard.type("Horários")
    await expect(second.locator("> .qt-head [data-part=action]")).to_have_value("submenu")
    await child.locator("[data-part=action]").select_option("end")
    await child.locator("[data-part=message]").fill("Abrimos às 9h.")
    await expect(page.locator("#queue-preview")).to_have_text(
        "Você está no Suporte.\n1 - Segunda via\n2 - Dúvidas"
    )
    # Move option 2 up and back down by keyboard: the focus follows the moved option.
    await second.locator("> .qt-head [data-tool=up]").click()
    await expect(page.locator('[data-path="options.0"] [data-part=title]').first).to_have_value(
        "Dúvidas"
    )
    await expect(
        page.locator('[data-path="options.0"] > .qt-head [data-tool=down]')
    ).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(
        page.locator('[data-path="options.1"] > .qt-head [data-part=title]')
    ).to_have_value("Dúvidas")

    # Hours: weekdays 09:00-18:00 (the default once ticked), Saturday mornings, Christmas.
    await page.check("#qh-enabled")
    await page.select_option("#qh-timezone", "America/Sao_Paulo")
    await page.fill("#qh-mon-0-1", "17:00")
    await page.click("[data-copy-hours]")
    await page.click('[data-add-hours="sat"]')
    await page.fill("#qh-sat-0-0", "09:00")
    await page.fill("#qh-sat-0-1", "13:00")
    await page.click('[data-add-hours="sun"]')
    await page.fill("#qh-sun-0-0", "10:00")
    await page.fill("#qh-sun-0-1", "00:00")  # until midnight
    await page.click("[data-add-holiday]")
    await expect(page.locator("#qh-holiday-0")).to_be_focused()
    await page.keyboard.type("12-25")
    await page.get_by_label("Out-of-hours message").fill("Estamos fechados.")
    await admin.shot("1-form")
    await page.click("#queue-save")
    await expect(page).to_have_url(re.compile(r"#queues/\d+$"))
    queue_id = int(page.url.rsplit("/", 1)[1])

    stored = (await client.get(f"/api/queues/{queue_id}", headers=tenant.headers)).json()
    assert stored["name"] == "Suporte"
    assert stored["out_of_hours_message"] == "Estamos fechados."
    assert stored["options"] == [
        {
            "key": "1",
            "title": "Segunda via",
            "message": "",
            "action": "queue",
            "queue_id": financeiro["id"],
            "children": [],
        },
        {
            "key": "2",
            "title": "Dúvidas",
            "message": "",
            "action": "submenu",
            "queue_id": None,
            "children": [
                {
                    "key": "1",
                    "title": "Horários",
                    "message": "Abrimos às 9h.",
                    "action": "end",
                    "queue_id": None,
                    "children": [],
                }
            ],
        },
    ]
    weekdays = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    assert stored["business_hours"] == {
        "timezone": "America/Sao_Paulo",
        "days": weekdays | {"sat": [["09:00", "13:00"]], "sun": [["10:00", "24:00"]]},
        "holidays": ["12-25"],
    }

    # After a reload everything is shown as saved.
    await page.reload()
    await expect(page.locator("#queue-form")).to_be_visible()
    await expect(page.get_by_label("Name", exact=True)).to_have_value("Suporte")
    await expect(
        page.locator('[data-path="options.1.children.0"] [data-part=message]')
    ).to_have_value("Abrimos às 9h.")
    await expect(page.locator('[data-path="options.0"] [data-part=queue_id]')).to_have_value(
        str(financeiro["id"])
    )
    await expect(page.locator("#qh-enabled")).to_be_checked()
    await expect(page.locator("#qh-timezone")).to_have_value("America/Sao_Paulo")
    await expect(page.locator("#qh-sat-0-1")).to_have_value("13:00")
    await expect(page.locator("#qh-sun-0-1")).to_have_value("00:00")
    await expect(page.locator("#qh-holiday-0")).to_have_value("12-25")

    # An empty title deep in the tree: the 422 is shown at that option, nothing is lost.
    await page.locator('[data-path="options.0"] [data-part=title]').fill("Segunda via do boleto")
    await page.locator('[data-path="options.1.children.0"] [data-part=title]').fill("")
    await page.click("#queue-save")
    error = page.locator('[data-error-for="options.1.children.0.title"]')
    await expect(error).not_to_be_empty()
    await expect(
        page.locator('[data-path="options.1.children.0"] [data-part=title]')
    ).to_have_attribute("aria-invalid", "true")
    await expect(page.locator('[data-path="options.0"] [data-part=title]')).to_have_value(
        "Segunda via do boleto"
    )
    await expect(
        page.locator('[data-path="options.1.children.0"] [data-part=message]')
    ).to_have_value("Abrimos às 9h.")
    await admin.shot("2-error")
    unchanged = (await client.get(f"/api/queues/{queue_id}", headers=tenant.headers)).json()
    assert unchanged["options"][0]["title"] == "Segunda via"
    # Fixed, it saves and the error goes.
    await page.locator('[data-path="options.1.children.0"] [data-part=title]').fill("Horário")
    await page.click("#queue-save")
    await expect(page.locator(".toast").last).to_have_text("Saved.")
    await expect(error).to_be_empty()
    saved = (await client.get(f"/api/queues/{queue_id}", headers=tenant.headers)).json()
    assert saved["options"][0]["title"] == "Segunda via do boleto"
    assert saved["options"][1]["children"][0]["title"] == "Horário"

    # Financeiro is forwarded to: deleting it is refused with the API's reason.
    await page.goto(base_url + "/admin#queues")
    row = page.locator(f'[data-queue-id="{financeiro["id"]}"]')
    await expect(page.locator(f'[data-queue-id="{queue_id}"]')).to_contain_text("3 options")
    await row.get_by_role("button", name=re.compile("Delete")).click()
    await page.click("dialog [data-confirm]")
    await expect(page.locator("#queues-error")).to_contain_text("forward to this queue")
    await expect(row).to_be_visible()
    # Without Suporte's menu forwarding to it, it goes; cancelling a delete keeps a queue.
    mine = page.locator(f'[data-queue-id="{queue_id}"]')
    await mine.get_by_role("button", name=re.compile("Delete")).click()
    await page.keyboard.press("Escape")
    await expect(page.locator("dialog")).to_have_count(0)
    await mine.get_by_role("button", name=re.compile("Delete")).click()
    await page.click("dialog [data-confirm]")
    await expect(mine).to_have_count(0)
    await row.get_by_role("button", name=re.compile("Delete")).click()
    await page.click("dialog [data-confirm]")
    await expect(row).to_have_count(0)
    await expect(page.locator("#section-queues")).to_contain_text("No queues yet.")
    gone = await client.get(f"/api/queues/{queue_id}", headers=tenant.headers)
    assert gone.status_code == 404
    _clean(admin, expected=("422 PATCH", "409 DELETE"))


async def test_a_sandbox_connection_of_a_queue_starts_and_stops_live(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    suporte = await _queue(client, tenant, "Suporte")
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#connections", tenant.admin.email)
    await expect(page.locator("#section-connections")).to_contain_text("No connections")
    await page.click("#connection-new")
    name = unique("Loja")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Channel").select_option("sandbox")
    await page.get_by_label("Suporte").check()
    await page.get_by_label("Greeting").fill("Olá {{first_name}}!")
    await page.click("#connection-save")
    await expect(page).to_have_url(re.compile(r"#connections$"))
    card = page.locator(".cn-card", has_text=name)
    await expect(card).to_contain_text("Suporte")
    await expect(card.locator(".cn-default")).to_be_visible()
    await expect(card.locator("[data-action=simulator]")).to_have_attribute("href", "/simulator")
    listed = (await client.get("/api/connections", headers=tenant.headers)).json()["items"]
    assert [(c["name"], c["channel"], c["queue_ids"]) for c in listed] == [
        (name, "sandbox", [suporte["id"]])
    ]
    connection_id = listed[0]["id"]

    await card.locator("[data-action=stop]").click()
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "disconnected")
    await expect(card.locator(".cn-status")).to_contain_text("stopped")
    await expect(card.locator("[data-action=stop]")).to_be_hidden()
    await card.locator("[data-action=start]").click()
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "connected")
    await expect(card.locator(".cn-status .cn-status-text")).to_have_text("Connected")
    await admin.shot("1-started")
    # Changed elsewhere (another admin, the API): the page follows live, without a reload.
    assert (await post(client, tenant, connection_id, "stop")).status_code == 200
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "disconnected")
    assert (await post(client, tenant, connection_id, "start")).status_code == 202
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "connected")
    await expect(card.locator("[data-action=start]")).to_be_hidden()

    # A customer wrote: the connection has a conversation, and deleting it is refused
    # with the API's reason (stop it instead).
    inbound = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": "+5511988887777", "name": "Maria", "text": "oi"},
        headers=tenant.headers,
    )
    assert inbound.status_code < 300, inbound.text
    await card.locator("[data-action=delete]").click()
    await page.click("dialog [data-confirm]")
    await expect(card.locator(".form-error")).to_contain_text("has conversations")
    assert (
        await client.get(f"/api/connections/{connection_id}", headers=tenant.headers)
    ).is_success
    _clean(admin, expected=("409 DELETE",))


async def test_a_whatsapp_qr_code_appears_live_then_connected_replaces_it(
    client: httpx.AsyncClient,
    tenant: Tenant,
    open_tab: OpenTab,
    base_url: str,
    whatsapp: FakeWhatsAppFactory,
) -> None:
    connection = await make_whatsapp(client, tenant)
    cid = connection["id"]
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#connections", tenant.admin.email)
    card = page.locator(f'.cn-card[data-connection-id="{cid}"]')
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "disconnected")
    await expect(card.locator(".cn-login")).to_be_hidden()

    # Start without a pairing phone: a QR code to scan.
    await card.locator("[data-action=start]").click()
    await page.click("#cn-start-confirm")
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "qrcode")
    qr = card.locator("img.cn-qr")
    await expect(qr).to_be_visible()
    await expect(qr).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert await qr.evaluate("(img) => img.complete && img.naturalWidth > 0")
    await admin.shot("1-qr")
    channel = await whatsapp.channel(cid)
    # A new code replaces the old one, live.
    first_src = await qr.get_attribute("src")
    await channel.show_qr()
    await expect(qr).not_to_have_attribute("src", first_src or "")

    await channel.scan()
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "connected")
    await expect(card.locator(".cn-login")).to_be_hidden()
    await expect(card.locator("img.cn-qr")).not_to_have_attribute("src", re.compile("."))
    await admin.shot("2-connected")

    # Logged out (confirmed), then started with a phone number: a pairing code instead.
    await card.locator("[data-action=logout]").click()
    await page.click("dialog [data-confirm]")
    await expect(card.locator(".cn-status")).to_have_attribute("data-status", "logged_out")
    await card.locator("[data-action=start]").click()
    await page.get_by_label("Phone number for a pairing code").fill("+55 11 98765-4321")
    await page.click("#cn-start-confirm")
    await expect(card.locator(".cn-pairing-code")).to_have_text(PAIRING_CODE)
    await expect(card.locator(".cn-pairing")).to_be_visible()
    _clean(admin)


async def test_the_sections_at_phone_width_and_kept_from_others(
    client: httpx.AsyncClient, tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    target = await _queue(client, tenant, "Financeiro")
    options = [
        {"key": "1", "title": "Boleto", "action": "queue", "queue_id": target["id"]},
        {
            "key": "2",
            "title": "Dúvidas frequentes sobre entregas",
            "action": "submenu",
            "children": [{"key": "1", "title": "Prazo", "action": "end", "message": "3 dias."}],
        },
    ]
    hours = {
        "timezone": "America/Sao_Paulo",
        "days": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]]},
    }
    response = await client.post(
        "/api/queues",
        json={"name": "Suporte", "options": options, "business_hours": hours},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    queue_id = response.json()["id"]
    await make_whatsapp(client, tenant, name="WhatsApp da loja", queue_ids=[queue_id])
    sandbox = await client.post(
        "/api/connections",
        json={"name": "Sandbox", "channel": "sandbox", "queue_ids": [queue_id, target["id"]]},
        headers=tenant.headers,
    )
    assert sandbox.status_code == 201, sandbox.text

    phone = await open_tab("phone", width=390, height=844)
    await phone.log_in(base_url, "/admin#queues", tenant.admin.email)
    await expect(phone.page.locator(f'[data-queue-id="{queue_id}"]')).to_be_visible()
    await _no_overflow(phone)
    await phone.shot("1-queues")
    await phone.page.goto(base_url + f"/admin#queues/{queue_id}")
    await expect(phone.page.locator('[data-path="options.1.children.0"]')).to_be_visible()
    await _no_overflow(phone)
    await phone.page.locator('[data-path="options.1"]').scroll_into_view_if_needed()
    await phone.shot("2-queue")
    await phone.page.goto(base_url + "/admin#connections")
    await expect(phone.page.locator(".cn-card")).to_have_count(2)
    await _no_overflow(phone)
    await phone.shot("3-connections")
    await phone.page.goto(base_url + "/admin#connections/new")
    await expect(phone.page.locator("#connection-form")).to_be_visible()
    await _no_overflow(phone)
    await phone.shot("4-connection")
    # In Portuguese too, and the dark theme.
    await phone.page.evaluate("() => localStorage.setItem('atende.lang', 'pt-BR')")
    await phone.page.emulate_media(color_scheme="dark")
    await phone.page.goto(base_url + f"/admin#queues/{queue_id}")
    await phone.page.reload()
    await expect(phone.page.locator("#queue-form")).to_contain_text("Opções do menu")
    await _no_overflow(phone)
    await phone.shot("5-queue-pt-dark")
    _clean(phone)

    # Supervisors use the admin page, but not these sections; agents not at all.
    for role in (Role.supervisor, Role.agent):
        member = await tenant.member(role)
        other = await open_tab(role.value)
        await other.log_in(base_url, "/admin#connections", member.email)
        await expect(other.page.locator("#admin-main")).not_to_be_empty()
        await expect(other.page.locator("#section-connections")).to_have_count(0)
        await expect(other.page.locator("#nav-queues")).to_have_count(0)
        await expect(other.page.locator("#nav-connections")).to_have_count(0)
        _clean(other)
