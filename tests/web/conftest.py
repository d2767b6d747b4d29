"""Browser tests: headless Debian Chromium driven by Playwright against the session's test
server. Each tab gets its own browser context (its own login), and records what a test
must assert never happened: console errors, uncaught exceptions, dialogs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    async_playwright,
    expect,
)
from sanic import Sanic

from tests.factories import FakeClock
from tests.helpers.browser import OpenTab, Tab

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

expect.set_options(timeout=10_000)


# Installed before the page's own scripts: desktop notifications and beeps are recorded in
# window.__alerts (a headless browser has neither a desktop nor speakers), and every
# websocket the page opens is kept in window.__sockets so that a test can cut it.
RECORDER = """
(() => {
  window.__alerts = { notifications: [], oscillators: 0 };
  window.Notification = class {
    static permission = "granted";
    static requestPermission() { return Promise.resolve("granted"); }
    constructor(title, options = {}) {
      window.__alerts.notifications.push({ title, body: options.body });
    }
    close() {}
  };
  window.AudioContext = class {
    constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
    createOscillator() {
      window.__alerts.oscillators += 1;
      return { type: "", frequency: { value: 0 }, connect: (n) => n, start() {}, stop() {} };
    }
    createGain() {
      const gain = { setValueAtTime() {}, exponentialRampToValueAtTime() {} };
      return { gain, connect: (n) => n };
    }
  };
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__sockets.push(this);
    }
  };
})();
"""


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def open_tab(
    browser: Browser, request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[OpenTab]:
    """`await open_tab("agent")`: a new tab in a browser context of its own, whose clock
    starts at the server's (the fake clock's) time and runs from there."""
    contexts: list[BrowserContext] = []
    tabs: list[Tab] = []
    test_name = request.node.name.removeprefix("test_")

    async def open_one(name: str, *, width: int = 1200, height: int = 800, **options: Any) -> Tab:
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US", **options
        )
        await context.add_init_script(RECORDER)
        # The page's "today", "in five minutes" and token expiries agree with the server's.
        await context.clock.set_system_time(clock())
        contexts.append(context)
        tab = Tab(name=name, page=await context.new_page(), test_name=test_name)
        tab.watch()
        tabs.append(tab)
        return tab

    yield open_one
    for context in contexts:
        await context.close()


@pytest.fixture
def clock_at_machine_time(clock: FakeClock) -> FakeClock:
    """The fake clock moved to the machine's time before the test's tenant logs in, for the
    tests of what the app still stamps with the machine's time rather than its clock (their
    comments say what): ask for it first, `@pytest.mark.usefixtures("clock_at_machine_time")`."""
    clock.set(datetime.now(UTC))
    return clock


@pytest.fixture
def base_url(app: Sanic[Any, Any]) -> str:
    return str(app.ctx.test_base_url)
