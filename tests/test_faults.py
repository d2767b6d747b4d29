"""Faults injected into a running installation (`atende serve --workers 2` on Postgres and a
Redis of its own): 1,000 customer messages at about 100 a second while one worker is killed
(kill -9) and later the whole server, which is then started again. Afterwards no
acknowledged message is lost, none is stored twice, no reply left twice (the sandbox
channels journal every send to a file that survives the kills), none is left pending, and
no contact has two active tickets.

Messages that got no answer (the server was down) are sent again with the same WhatsApp id,
as WhatsApp redelivers them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from service.settings import Settings
from tests.processes import (
    atende_server,
    free_port,
    fresh_database,
    private_redis,
    server_workers,
)

pytestmark = pytest.mark.slow

MESSAGES = 1_000
CUSTOMERS = 100
RATE = 100.0  # messages a second, open loop
_EMAIL = "faults@example.com"
_PASSWORD = "kill it twice"


@pytest_asyncio.fixture
async def installation(test_settings: Settings, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    if not test_settings.database_url:
        pytest.skip("the fault tests run on Postgres (DATABASE_URL)")
    with private_redis() as redis:
        async with fresh_database(test_settings.database_url, "atende_faults") as database_url:
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
            env |= {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis.url,
                "DATA_DIR": str(tmp_path / "data"),
                "SECRET_KEY": "faults " * 8,
                "LOG_LEVEL": "WARNING",
                "TIMERS_INTERVAL_SECONDS": "2",
                "ATENDE_ADMIN_EMAIL": _EMAIL,
                "ATENDE_ADMIN_PASSWORD": _PASSWORD,
                "ATENDE_SANDBOX_JOURNAL": str(tmp_path / "sent.jsonl"),
            }
            yield env


class Customers:
    """Sends the customers' messages and keeps which ones the server acknowledged."""

    def __init__(self, base: str, token: str, connection_id: int) -> None:
        self.http = httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        self.url = f"/api/sandbox/{connection_id}/inbound"
        self.acknowledged: set[str] = set()
        self.statuses: Counter[int | str] = Counter()

    async def write(self, n: int) -> None:
        """Customer n % CUSTOMERS writes message n, again until the server acknowledges it."""
        body = {"from": f"+551190000{n % CUSTOMERS:04d}", "name": "Cliente", "text": f"m{n}"}
        body["id"] = f"wa-{n}"
        for _ in range(100):
            try:
                response = await self.http.post(self.url, json=body)
            except httpx.TransportError:
                self.statuses["refused"] += 1
            else:
                self.statuses[response.status_code] += 1
                if response.status_code == 200:
                    self.acknowledged.add(body["id"])
                    return
            await asyncio.sleep(0.5)
        raise AssertionError(f"message {n} was never acknowledged")


async def _login(base: str) -> tuple[str, int]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        login = await http.post("/api/auth/login", json={"email": _EMAIL, "password": _PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for name in ("Suporte", "Financeiro"):
            queue = await http.post("/api/queues", json={"name": name}, headers=headers)
            assert queue.status_code == 201, queue.text
        created = await http.post(
            "/api/connections", json={"name": "Loja", "channel": "sandbox"}, headers=headers
        )
        assert created.status_code == 201, created.text
        return login.json()["access_token"], int(created.json()["id"])


async def _stream(customers: Customers, numbers: range) -> None:
    """Open loop: message n starts at n / RATE seconds, whatever the answers take."""
    started = time.monotonic()
    tasks = []
    for n in numbers:
        delay = started + (n - numbers.start) / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(customers.write(n)))
    await asyncio.gather(*tasks)


async def _facts(database_url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        inbound = await connection.fetch(
            "SELECT channel_message_id, count(*) AS n FROM messages WHERE direction = 'in'"
            " GROUP BY channel_message_id"
        )
        outbound = await connection.fetch(
            "SELECT status, error, count(*) AS n FROM messages"
            " WHERE direction = 'out' AND NOT is_note GROUP BY status, error"
        )
        doubled_tickets = await connection.fetchval(
            "SELECT count(*) FROM (SELECT contact_id FROM tickets"
            " WHERE status IN ('pending', 'open', 'bot') GROUP BY contact_id"
            " HAVING count(*) > 1) AS t"
        )
        pending = await connection.fetchval(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'pending'"
            " AND NOT is_note"
        )
    finally:
        await connection.close()
    return {
        "inbound": {r["channel_message_id"]: r["n"] for r in inbound},
        "outbound": {(r["status"], r["error"]): r["n"] for r in outbound},
        "doubled_tickets": doubled_tickets,
        "pending": pending,
    }


def _journal(path: Path) -> Counter[int]:
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(json.loads(line)["message_id"] for line in lines)


async def test_kill_a_worker_then_the_server_mid_stream(
    installation: dict[str, str], tmp_path: Path
) -> None:
    env, port = installation, free_port()
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        server = stack.enter_context(
            atende_server(env, port=port, workers=2, log=tmp_path / "first.log")
        )
        token, connection_id = await _login(base)
        customers = Customers(base, token, connection_id)
        await _stream(customers, range(300))
        _, pid = sorted(server_workers(server.pid).items())[0]
        os.kill(pid, signal.SIGKILL)  # one worker, mid-stream
        await _stream(customers, range(300, 600))
        killed_at = time.monotonic()
        os.killpg(server.pid, signal.SIGKILL)  # the whole server
        writing = asyncio.create_task(_stream(customers, range(600, MESSAGES)))
        await asyncio.sleep(1)
    with atende_server(env, port=port, workers=2, log=tmp_path / "second.log"):
        back_after = time.monotonic() - killed_at
        await writing
        deadline = time.monotonic() + 60
        while (facts := await _facts(env["DATABASE_URL"]))["pending"]:
            assert time.monotonic() < deadline, facts
            await asyncio.sleep(0.5)
        await customers.http.aclose()
    sent = _journal(tmp_path / "sent.jsonl")
    twice = {message_id: n for message_id, n in sent.items() if n > 1}
    expected = {f"wa-{n}" for n in range(MESSAGES)}
    figures = {
        "acknowledged": len(customers.acknowledged),
        "lost": len(expected - set(facts["inbound"])),
        "stored_twice": sum(1 for n in facts["inbound"].values() if n > 1),
        "replies": sum(facts["outbound"].values()),
        "sent_twice": len(twice),
        "pending": facts["pending"],
        "interrupted": sum(n for (s, e), n in facts["outbound"].items() if s == "failed"),
        "doubled_tickets": facts["doubled_tickets"],
        "statuses": dict(customers.statuses),
        "seconds_down": round(back_after, 1),
    }
    print("fault figures:", json.dumps(figures))
    assert customers.acknowledged == expected
    assert figures["lost"] == 0, figures
    assert figures["stored_twice"] == 0, figures
    assert figures["sent_twice"] == 0, (figures, twice)
    assert figures["pending"] == 0, figures
    assert figures["doubled_tickets"] == 0, figures
    assert 500 not in customers.statuses, figures
