"""`atende demo` and `atende createadmin` run as a user runs them: a child process on an
installation of its own (a fresh Postgres database, or SQLite under a new DATA_DIR), its exit
status and what it prints."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from service.cli import base_url
from service.settings import Settings
from tests.processes import atende_server, free_port, fresh_database, settings_env

_AGENT = "ana.souza@atende.local"  # the first agent of `atende demo --history`


@pytest_asyncio.fixture
async def installation(test_settings: Settings, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment of an empty installation (the demo seeds the first company)."""
    env = settings_env(test_settings)
    env.pop("REDIS_URL", None)
    env["DATA_DIR"] = str(tmp_path / "data")
    if not test_settings.database_url:
        yield env
        return
    async with fresh_database(test_settings.database_url, "atende_cli") as database_url:
        env["DATABASE_URL"] = database_url
        yield env


def _atende(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "service.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)


async def _user(env: dict[str, str], email: str) -> dict[str, Any]:
    """The user's row as the command left it."""
    query = "SELECT role, is_super, is_active, password_hash FROM users WHERE email = "
    if "DATABASE_URL" in env:
        import asyncpg

        url = env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        connection = await asyncpg.connect(url)
        try:
            row = await connection.fetchrow(query + "$1", email)
        finally:
            await connection.close()
        assert row is not None
        return dict(row)
    with sqlite3.connect(Path(env["DATA_DIR"]) / "atende.sqlite3") as db:
        db.row_factory = sqlite3.Row
        found = db.execute(query + "?", (email,)).fetchone()
    assert found is not None
    return {**dict(found), "is_super": bool(found["is_super"])}


def test_the_address_a_browser_reaches() -> None:
    assert base_url("0.0.0.0", 8080) == "http://localhost:8080"
    assert base_url("::", 9000) == "http://localhost:9000"
    assert base_url("127.0.0.1", 9001) == "http://127.0.0.1:9001"
    assert base_url("::1", 9002) == "http://[::1]:9002"
    assert base_url("atende.example.com", 80) == "http://atende.example.com:80"


async def test_demo_and_serve_print_the_configured_address(
    installation: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = installation | {"HOST": "127.0.0.1", "PORT": str(port)}
    demo = _atende(env, "demo")
    assert demo.returncode == 0, demo.stderr
    url = f"http://127.0.0.1:{port}"
    assert f"Atende: {url}  (admin: {url}/admin" in demo.stdout
    assert "localhost" not in demo.stdout
    assert "queues Suporte, Financeiro;" in demo.stdout
    log = tmp_path / "serve.log"
    # atende_server waits for 127.0.0.1:port/health to answer: where the server listens.
    with atende_server(env, port=port, log=log):
        assert f"Atende: {url}  (admin: {url}/admin" in log.read_text()


async def test_history_twice_fails_and_createadmin_does_not_promote_silently(
    installation: dict[str, str],
) -> None:
    first = _atende(installation, "demo", "--history", "1")
    assert first.returncode == 0, first.stderr
    assert "History: 1 days" in first.stdout
    # A second run would duplicate the history: refused, with a non-zero status.
    second = _atende(installation, "demo", "--history", "1")
    assert second.returncode != 0
    assert "already has the demo history" in second.stderr
    assert "History:" not in second.stdout
    # An agent's e-mail: refused, the agent left as they were.
    before = await _user(installation, _AGENT)
    assert (before["role"], before["is_super"]) == ("agent", False)
    refused = _atende(installation, "createadmin", "--email", _AGENT, "--password", "p" * 12)
    assert refused.returncode != 0
    assert "--promote" in refused.stderr
    assert "agent of Demo" in refused.stderr
    assert await _user(installation, _AGENT) == before
    # With --promote: done, and said.
    promoted = _atende(
        installation, "createadmin", "--email", _AGENT.upper(), "--password", "p" * 12, "--promote"
    )
    assert promoted.returncode == 0, promoted.stderr
    assert f"{_AGENT} (agent of Demo) promoted to admin and super-admin" in promoted.stdout
    after = await _user(installation, _AGENT)
    assert (after["role"], after["is_super"], after["is_active"]) == ("admin", True, True)
    assert after["password_hash"] != before["password_hash"]
    # A super-admin's password is reset without --promote; a new e-mail is a new super-admin.
    reset = _atende(installation, "createadmin", "--email", _AGENT, "--password", "q" * 12)
    assert reset.returncode == 0, reset.stderr
    assert f"Super-admin {_AGENT}: password reset." in reset.stdout
    new = _atende(installation, "createadmin", "--email", "new@example.com", "--password", "r" * 12)
    assert new.returncode == 0, new.stderr
    assert "Super-admin new@example.com created." in new.stdout
    assert (await _user(installation, "new@example.com"))["is_super"] is True
