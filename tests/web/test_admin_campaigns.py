"""Campaigns in a real browser: create one with two variants, see the API's 422 beside the
field, start it, watch its progress move live as the loop sends, pause, resume and cancel
it, filter its recipients; the list's progress bars move live too; usable at 390 px."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from playwright.async_api import expect
from sanic import Sanic

from service.campaigns.models import Campaign, CampaignStatus
from tests.factories import FakeClock, Tenant
from tests.helpers.browser import OpenTab, Tab
from tests.helpers.campaigns import (
    campaign_body,
    create_campaign,
    make_contacts,
    make_list,
    runner_for,
    sandbox_connection,
    stop_leftover_campaigns,  # noqa: F401  (an autouse fixture)
    without_receipts,
)


def _assert_clean(*tabs: Tab) -> None:
    for tab in tabs:
        assert tab.errors == [], f"{tab.name}: {tab.errors}"
        assert tab.dialogs == [], f"{tab.name}: {tab.dialogs}"


async def test_create_start_watch_pause_resume_and_cancel_a_campaign(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    clock: FakeClock,
    open_tab: OpenTab,
    base_url: str,
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)  # the statuses stay "sent" for the filter
    contacts = await make_contacts(tenant, 5)
    list_id = await make_list(tenant, contacts)

    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#campaigns", tenant.admin.email)
    await expect(page.locator("#section-campaigns")).to_contain_text("No campaigns yet.")
    await page.click("#campaign-new")
    await page.fill("#cp-name", "Black Friday")
    await page.select_option("#cp-connection", str(connection_id))
    await page.select_option("#cp-audience", f"list:{list_id}")
    variants = page.locator(".cp-variant textarea")
    await variants.nth(0).fill("Oi {{first_name}}, 30% off!")
    await page.click("#cp-add-variant")
    await variants.nth(1).fill("{{name}}, hoje tem desconto.")
    await page.fill("#cp-min-delay", "10")
    await page.fill("#cp-max-delay", "5")
    await page.click("#cp-save")
    await expect(page.locator("[data-error-for=max_delay]")).not_to_be_empty()
    await expect(page.locator("#cp-max-delay")).to_have_attribute("aria-invalid", "true")
    # That refusal was the point: the browser logs it, and nothing else went wrong.
    assert all("422" in error for error in admin.errors), admin.errors
    admin.errors.clear()
    await page.fill("#cp-min-delay", "1")
    await page.fill("#cp-max-delay", "1")
    await admin.shot("1-form")
    await page.click("#cp-save")

    await expect(page.locator("#cp-title")).to_have_text("Black Friday")
    await expect(page.locator("#cp-status")).to_have_text("Draft")
    campaign = await Campaign.get(company_id=tenant.company.id, name="Black Friday")
    assert campaign.variants == ["Oi {{first_name}}, 30% off!", "{{name}}, hoje tem desconto."]
    assert campaign.contact_list_id == list_id  # type: ignore[attr-defined]

    await page.click("[data-action=start]")
    await page.click("dialog [data-confirm]")
    await expect(page.locator("#cp-status")).to_have_text("Running")
    await expect(page.locator("#cp-recipients tr[data-recipient-id]")).to_have_count(5)

    # The loop sends two; the page hears it without a reload.
    runner = runner_for(app, clock)
    for _ in range(2):
        clock.advance(timedelta(seconds=2))
        assert await runner.tick() == 1
    await expect(page.locator("[data-card=cp_went_out] .ap-card-value")).to_have_text("2")
    await expect(page.locator(".cp-progress-text").first).to_have_text("2 of 5")
    await admin.shot("2-running")

    await page.click("[data-action=pause]")
    await expect(page.locator("#cp-status")).to_have_text("Paused")
    await page.click("[data-action=resume]")
    await expect(page.locator("#cp-status")).to_have_text("Running")
    await page.click("[data-action=cancel]")
    await page.click("dialog [data-confirm]")
    await expect(page.locator("#cp-status")).to_have_text("Cancelled")
    await expect(page.locator("[data-card=cp_r_skipped] .ap-card-value")).to_have_text("3")
    await page.select_option("#cp-recipient-filter", "sent")
    await expect(page.locator("#cp-recipients tr[data-recipient-id]")).to_have_count(2)
    assert (await Campaign.get(id=campaign.id)).status is CampaignStatus.cancelled

    # At phone width the detail and the editor fit.
    await page.set_viewport_size({"width": 390, "height": 800})
    await page.click("#cp-back")
    await expect(page.locator("tr[data-campaign-id]")).to_have_count(1)
    await page.click("#campaign-new")
    await expect(page.locator("#cp-name")).to_be_focused()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the campaigns section is {width}px wide"
    await admin.shot("3-phone")
    _assert_clean(admin)


async def test_the_list_shows_progress_live(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    clock: FakeClock,
    open_tab: OpenTab,
    base_url: str,
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 3))
    campaign = await create_campaign(client, tenant, campaign_body(connection_id, list_id))

    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#campaigns", tenant.admin.email)
    await page.locator("#controls select").select_option("pt-BR")
    await expect(page.locator(".admin-heading")).to_have_text("Campanhas")
    row = page.locator(f"tr[data-campaign-id='{campaign['id']}']")
    await expect(row).to_contain_text("0 de 3")
    runner = runner_for(app, clock)
    for _ in range(4):  # three sends, then nobody is left: finished
        clock.advance(timedelta(seconds=2))
        await runner.tick()
    await expect(row).to_contain_text("3 de 3")
    await expect(row.locator(".cp-status")).to_have_text("Concluída")
    await page.locator("#controls select").select_option("es")
    await expect(row.locator(".cp-status")).to_have_text("Terminada")
    _assert_clean(admin)


async def test_the_editor_shows_the_sending_windows_in_words(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    admin = await open_tab("admin")
    page = admin.page
    await admin.log_in(base_url, "/admin#campaigns", tenant.admin.email)
    await page.click("#campaign-new")
    summary = page.locator("#cp-windows")
    await page.fill("#cp-timezone", "America/Sao_Paulo")
    await expect(summary).to_have_text("Sends every day, at any hour (America/Sao_Paulo).")
    # Monday to Friday with no hours: whole weekdays, never a weekend.
    for day in range(5):
        await page.check(f"#cp-day-{day}")
    await expect(summary).to_have_text(
        "Sends on Monday, Tuesday, Wednesday, Thursday, and Friday, at any hour"
        " (America/Sao_Paulo)."
    )
    await page.fill("#cp-window-start", "22:00")
    await expect(summary).to_have_text("Set both “From” and “Until”, or neither.")
    await page.fill("#cp-window-end", "02:00")
    await expect(summary).to_contain_text("from 22:00 to 02:00 of the next day")

    await page.evaluate("() => localStorage.setItem('atende.lang', 'pt-BR')")
    await page.reload()
    await page.click("#campaign-new")
    await page.fill("#cp-timezone", "America/Sao_Paulo")
    await page.check("#cp-day-5")
    await page.check("#cp-day-6")
    await page.fill("#cp-window-start", "09:00")
    await page.fill("#cp-window-end", "12:00")
    await expect(summary).to_have_text(
        "Envia em: sábado e domingo, das 09:00 às 12:00 (America/Sao_Paulo)."
    )
    await page.evaluate("() => localStorage.setItem('atende.lang', 'es')")
    await page.reload()
    await page.click("#campaign-new")
    await page.fill("#cp-timezone", "UTC")
    await expect(summary).to_have_text("Envía todos los días, a cualquier hora (UTC).")
    _assert_clean(admin)
