"""Browser tests: headless Debian Chromium driven by Playwright against the session's test
server. Each tab gets its own browser context (its own login), and records what a test
must assert never happened: console errors, uncaught exceptions, dialogs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    Dialog,
    Page,
    Response,
    WebSocket,
    async_playwright,
    expect,
)
from sanic import Sanic

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).parent / "artifacts"

expect.set_options(timeout=10_000)


@dataclass
class Tab:
    """One browser tab and what happened in it."""

    name: str
    page: Page
    test_name: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("dialog", self._dialog)
        self.page.on("websocket", self._socket)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        # The console says only "Failed to load resource"; this says which.
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.request.method} {response.url}")

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def _socket(self, socket: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            try:
                self.frames.append(json.loads(payload))
            except ValueError:
                self.frames.append({"type": "unparsable", "data": str(payload)})

        socket.on("framereceived", received)

    async def shot(self, step: str) -> None:
        """A screenshot of this step under tests/web/artifacts/."""
        ARTIFACTS.mkdir(exist_ok=True)
        await self.page.screenshot(path=ARTIFACTS / f"{self.test_name}-{step}-{self.name}.png")

    async def log_in(self, base_url: str, path: str, email: str) -> None:
        """Open a page and log in through its form; done when the live feed is up."""
        await self.page.goto(base_url + path)
        await self.page.fill("#login-email", email)
        await self.page.fill("#login-password", PASSWORD)
        await self.page.click(".login-card button[type=submit]")
        await expect(self.page.locator("#live")).to_have_attribute("data-state", "online")


OpenTab = Callable[..., Awaitable[Tab]]

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
async def open_tab(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[OpenTab]:
    """`await open_tab("agent")`: a new tab in a browser context of its own."""
    contexts: list[BrowserContext] = []
    tabs: list[Tab] = []
    test_name = request.node.name.removeprefix("test_")

    async def open_one(name: str, *, width: int = 1200, height: int = 800, **options: Any) -> Tab:
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US", **options
        )
        await context.add_init_script(RECORDER)
        contexts.append(context)
        tab = Tab(name=name, page=await context.new_page(), test_name=test_name)
        tab.watch()
        tabs.append(tab)
        return tab

    yield open_one
    for context in contexts:
        await context.close()


@pytest.fixture
def base_url(app: Sanic[Any, Any]) -> str:
    return str(app.ctx.test_base_url)
