"""The admin page's shell in a real browser: who may open it, its navigation, its language."""

from __future__ import annotations

from playwright.async_api import expect

from service.users.models import Role
from tests.factories import Tenant
from tests.helpers.browser import OpenTab


async def test_an_admin_moves_between_sections_and_an_agent_is_kept_out(
    tenant: Tenant, open_tab: OpenTab, base_url: str
) -> None:
    admin = await open_tab("admin")
    await admin.log_in(base_url, "/admin", tenant.admin.email)
    nav = admin.page.locator("#admin-nav a")
    assert await nav.count() >= 7
    await admin.page.click("#nav-queues")
    await expect(admin.page.locator("#section-queues")).to_be_visible()
    await expect(admin.page.locator("#nav-queues")).to_have_attribute("aria-current", "page")
    await admin.page.reload()
    await expect(admin.page.locator("#section-queues")).to_be_visible()
    await admin.shot("queues")

    agent_member = await tenant.member(Role.agent)
    agent = await open_tab("agent")
    await agent.log_in(base_url, "/admin", agent_member.email)
    await expect(agent.page.locator("#admin-main")).to_contain_text("administrators")
    await expect(agent.page.locator("#admin-nav a")).to_have_count(0)
    # The inbox offers the admin to those who may use it only.
    await agent.page.goto(base_url + "/")
    await expect(agent.page.locator("#live")).to_have_attribute("data-state", "online")
    await expect(agent.page.locator("#admin-link")).to_be_hidden()
    for tab in (admin, agent):
        assert tab.errors == [], tab.errors
