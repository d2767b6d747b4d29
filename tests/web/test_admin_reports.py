"""The Reports section in a real browser: a custom period of a hand-built history (the
figures of tests/service/reports/test_reports_period.py, plus a ticket transferred between queues),
the per-queue figures of the tickets' history, the queue filter, a CSV download, a 422 shown
beside its field, the presets, the keyboard, Portuguese and a phone's width."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import expect

from service.tickets.models import ActorKind, HistoryKind, TicketStatus
from service.users.models import Role
from tests.factories import Tenant
from tests.helpers.browser import OpenTab, Tab
from tests.helpers.report_history import Built, History, at, build, line


async def transferred_overnight(tenant: Tenant, built: Built) -> None:
    """Handed to Alpha on the 9th at 23:10 and taken by Ana, moved to Beta and Bia on the
    10th at 09:00, still open: it entered Beta in the period, and its stay in Alpha (35 400
    s) ended in it; no summary figure of the period changes."""
    ana, bia = built.ana, built.bia
    ticket = await (await History.of(tenant)).ticket(
        created=at(9, 23),
        status=TicketStatus.open,
        queue=built.b,
        user=bia,
        handed_off=at(9, 23, 10),
        accepted=at(9, 23, 20),
    )
    await line(
        ticket, HistoryKind.handed_off, at(9, 23, 10), actor=ActorKind.bot, to_queue_id=built.a.id
    )
    await line(
        ticket, HistoryKind.accepted, at(9, 23, 20), to_queue_id=built.a.id, to_user_id=ana.id
    )
    await line(
        ticket,
        HistoryKind.transferred,
        at(10, 9),
        from_queue_id=built.a.id,
        to_queue_id=built.b.id,
        from_user_id=ana.id,
        to_user_id=bia.id,
    )


def _assert_clean(*tabs: Tab) -> None:
    for tab in tabs:
        assert tab.errors == [], f"{tab.name}: {tab.errors}"
        assert tab.dialogs == [], f"{tab.name}: {tab.dialogs}"


async def test_reports_of_a_period_by_queue_with_csv(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    built = await build(tenant)
    await transferred_overnight(tenant, built)
    response = await tenant.client.patch(
        "/api/settings", json={"timezone": "UTC"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text

    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#reports", tenant.admin.email)
    cards = page.locator("#rp-cards")
    # The last 30 days by default: nothing of March's history.
    await expect(page.locator("#rp-preset-30")).to_have_attribute("aria-pressed", "true")
    await expect(cards.locator("[data-value=created]")).to_have_text("0")
    today = date.fromisoformat(await page.input_value("#rp-to"))
    assert await page.input_value("#rp-from") == (today - timedelta(days=29)).isoformat()

    # A custom period, typed and submitted with the keyboard.
    await page.fill("#rp-from", "2026-03-10")
    await page.fill("#rp-to", "2026-03-11")
    await page.focus("#rp-to")
    await page.keyboard.press("Enter")
    await expect(page.locator("#rp-period-note")).to_have_text("2026-03-10 to 2026-03-11 · UTC")
    await expect(page.locator("#rp-preset-custom")).to_have_attribute("aria-pressed", "true")
    await expect(cards.locator("[data-value=created]")).to_have_text("6")
    await expect(cards.locator("[data-value=closed]")).to_have_text("5")
    await expect(cards.locator("[data-value=handoff-rate]")).to_have_text("83.3%")
    await expect(cards.locator("[data-value=frt]")).to_have_text("1 h 02 min")  # 3750 s
    await expect(cards.locator("[data-value=waiting]")).to_have_text("15 min")  # 920 s
    await expect(cards.locator("[data-value=waiting-now]")).to_have_text("1")
    await expect(cards.locator("[data-value=csat]")).to_have_text("3.33 / 5")
    agents = page.locator("#rp-agents tr[data-user-id]")
    await expect(agents).to_have_count(2)
    await expect(page.locator(f"#rp-agents tr[data-user-id='{built.bia.id}']")).to_contain_text(
        "=Bia"
    )
    await expect(page.locator("#rp-queues tr[data-queue-id]")).to_have_count(3)
    # Per queue, from the tickets' history: entered (the transfer counts in Beta too) and
    # the time in queue of the stays that ended in the period.
    headers = page.locator("#rp-queues th")
    await expect(headers).to_contain_text(["Entered", "Avg. time in queue"])
    alpha = page.locator(f"#rp-queues tr[data-queue-id='{built.a.id}']")
    beta = page.locator(f"#rp-queues tr[data-queue-id='{built.b.id}']")
    await expect(alpha.locator("[data-figure=entered]")).to_have_text("3")
    await expect(beta.locator("[data-figure=entered]")).to_have_text("3")  # handed off: 2
    # Alpha: 6600, 86 400 and the transferred ticket's 35 400 s; Beta: 12 600 and 90 000 s.
    alpha_stay = alpha.locator("[data-figure=time-in-queue]")
    await expect(alpha_stay).to_have_text("11 h 53 min")
    await expect(alpha_stay).to_have_attribute("title", re.compile(r"stays: 3$"))
    await expect(beta.locator("[data-figure=time-in-queue]")).to_have_text("14 h 15 min")
    await expect(page.locator("#rp-queues-note")).to_contain_text("follow each ticket's path")
    await page.locator("#rp-queues").scroll_into_view_if_needed()
    await admin.shot("2-queues")
    tuesday_8h = page.locator("#rp-heat tr[data-weekday='1'] td[data-hour='8']")
    await expect(tuesday_8h).to_have_attribute("data-count", "1")
    await expect(page.locator("#rp-backlog-columns li")).to_have_count(2)
    await expect(page.locator("#rp-scores [data-count='5']")).to_have_text("1")
    await admin.shot("1-period")

    # By hour, the backlog has a column per hour; the heat table may show tickets.
    await page.select_option("#rp-backlog-freq", "hour")
    await expect(page.locator("#rp-backlog-columns li")).to_have_count(48)
    await page.select_option("#rp-volume-what", "tickets")
    await expect(page.locator("#rp-heat")).to_have_attribute("data-what", "tickets")

    # One queue.
    await page.select_option("#rp-queue", str(built.a.id))
    await expect(cards.locator("[data-value=created]")).to_have_text("3")
    await expect(page.locator("#rp-queues tr[data-queue-id]")).to_have_count(1)
    await expect(alpha.locator("[data-figure=entered]")).to_have_text("3")
    await expect(alpha_stay).to_have_text("11 h 53 min")  # its stays, wherever they went

    # Its agents as the server's CSV file.
    async with page.expect_download() as pending:
        await page.click("#rp-csv-agents")
    download = await pending.value
    assert download.suggested_filename == (
        f"atende-agents-2026-03-10-2026-03-11-queue-{built.a.id}.csv"
    )
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("user_id,name,role,closed,")
    assert "'=Bia" in text

    # A period that ends before it starts, or too long: said beside the field (the API
    # would answer 422).
    await page.fill("#rp-from", "2026-03-12")
    await page.click("#rp-apply")
    await expect(page.locator("[data-error-for=from]")).to_contain_text("on or before")
    await page.fill("#rp-from", "2025-01-01")
    await page.click("#rp-apply")
    await expect(page.locator("[data-error-for=to]")).to_have_text(
        "a report covers at most 366 days"
    )
    await expect(page.locator("#rp-to")).to_have_attribute("aria-invalid", "true")

    # A preset: the last 7 days up to today.
    await page.click("#rp-preset-7")
    await expect(page.locator("#rp-from")).to_have_value((today - timedelta(days=6)).isoformat())
    await expect(page.locator("[data-error-for=from]")).to_have_text("")
    await expect(cards.locator("[data-value=created]")).to_have_text("0")
    _assert_clean(admin)


async def test_reports_in_portuguese_at_a_phones_width_for_a_supervisor(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    supervisor = await tenant.member(Role.supervisor)
    phone = await open_tab("phone", width=390, height=800, color_scheme="dark")
    page = phone.page
    await phone.log_in(base_url, "/admin", supervisor.email)
    await page.click("#nav-reports")
    await expect(page.locator("#rp-cards")).to_be_visible()
    await page.locator("#controls select").select_option("pt-BR")
    await expect(page.locator("#nav-reports")).to_have_text("Relatórios")
    await expect(page.locator("#rp-card-created")).to_contain_text("Tickets criados")
    await expect(page.locator("#rp-preset-7")).to_have_text("Últimos 7 dias")
    await expect(page.locator("#rp-heat tbody th").first).to_have_text("seg")
    await phone.shot("pt-BR")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"reports is {width}px wide"
    # Keyboard: the presets are buttons in the tab order.
    await page.focus("#rp-preset-90")
    await page.keyboard.press("Enter")
    await expect(page.locator("#rp-preset-90")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#rp-period-note")).to_contain_text(
        re.compile(r"\d{4}-\d{2}-\d{2} a \d{4}-\d{2}-\d{2}")
    )
    _assert_clean(phone)
