"""The web pages as files and HTTP responses: served with their Content-Security-Policy, and
written so that customers' text can only ever be text (no HTML sinks, no inline code)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from service.app import PAGE_CSP

APP_DIR = Path(__file__).parents[2] / "service" / "web" / "app"
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# Ways a string could become markup or code in the page.
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"createContextualFragment|DOMParser"
)


@pytest.mark.parametrize("path", ["/", "/simulator", "/admin"])
async def test_pages_are_served_with_a_strict_policy(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == EXPECTED_CSP == PAGE_CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert '<script type="module" src="/web/app/js/' in response.text


async def test_the_pages_modules_and_styles_are_served(client: httpx.AsyncClient) -> None:
    for file in sorted(APP_DIR.rglob("*")):
        if file.suffix not in (".js", ".css"):
            continue
        response = await client.get(f"/web/app/{file.relative_to(APP_DIR).as_posix()}")
        assert response.status_code == 200, file
        kind = "javascript" if file.suffix == ".js" else "css"
        assert kind in response.headers["content-type"], file


def test_no_script_turns_text_into_html() -> None:
    scripts = sorted(APP_DIR.rglob("*.js"))
    assert len(scripts) > 5
    for script in scripts:
        found = HTML_SINKS.findall(script.read_text())
        assert found == [], f"{script.name}: {found}"


def test_the_html_has_no_inline_script_style_or_handler() -> None:
    for page in sorted(APP_DIR.glob("*.html")):
        html = page.read_text()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], page.name
        assert re.findall(r"\sstyle=", html) == [], page.name
        assert re.findall(r"<style", html) == [], page.name
        assert re.findall(r"\son[a-z]+=", html) == [], page.name
        assert "http://" not in html, page.name
        assert "https://" not in html, page.name
