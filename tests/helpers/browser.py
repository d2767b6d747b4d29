"""One browser tab of the web tests, and what happened in it (errors, dialogs, socket frames);
the `open_tab` fixture (tests/web/conftest.py) makes them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Dialog, Page, Response, WebSocket, expect

from tests.factories import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[1] / "web" / "artifacts"


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
