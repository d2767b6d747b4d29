"""Two `atende serve` processes on one Postgres and Redis: a WhatsApp connection is run by
exactly one of them, and when that one dies (kill -9) the other takes it over within the
lease time. Their WhatsApp is faked (ATENDE_FAKE_WHATSAPP: a sandbox channel)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import pytest_asyncio
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from service.leases import installation_mark
from service.settings import Settings
from tests.processes import atende_server, free_port, fresh_database, settings_env

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2.0
_EMAIL = "workers@example.com"
_PASSWORD = "two workers, one number"
T = TypeVar("T")


@pytest_asyncio.fixture
async def workers_env(test_settings: Settings, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """An installation of its own (database, Redis database, DATA_DIR) for the two servers,
    so that the test server's own lease loop stays out of it."""
    if not (test_settings.database_url and test_settings.redis_url):
        pytest.skip("several workers need Postgres and Redis (DATABASE_URL, REDIS_URL)")
    redis_url = urlunsplit(urlsplit(test_settings.redis_url)._replace(path="/13"))
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    env = settings_env(test_settings)
    env.update(
        REDIS_URL=redis_url,
        DATA_DIR=str(tmp_path / "data"),
        LEASE_SECONDS=str(LEASE_SECONDS),
        ATENDE_FAKE_WHATSAPP="1",
        TIMERS_INTERVAL_SECONDS="0",
        ATENDE_ADMIN_EMAIL=_EMAIL,
        ATENDE_ADMIN_PASSWORD=_PASSWORD,
    )
    async with fresh_database(test_settings.database_url, "atende_workers") as database_url:
        env["DATABASE_URL"] = database_url
        yield env


def _until(check: Callable[[], T | None], *, within: float = 15.0) -> T:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result is not None:
            return result
        assert time.monotonic() < deadline, "the condition never became true"
        time.sleep(0.05)


def _pid_of(worker_id: str) -> int:
    return int(worker_id.split(":")[1])


def _runs_lines(log: Path, connection_id: int) -> list[str]:
    """The workers that took the connection, as their log says ("worker … runs connection …")."""
    suffix = f" runs connection {connection_id}"
    return [
        line.split("worker ", 1)[1].removesuffix(suffix)
        for line in log.read_text().splitlines()
        if line.endswith(suffix)
    ]


def test_one_worker_runs_a_connection_and_another_takes_over(
    workers_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    redis = SyncRedis.from_url(workers_env["REDIS_URL"], decode_responses=True)
    env = workers_env | {"LOG_LEVEL": "INFO"}  # the workers log which connections they take
    with ExitStack() as stack:
        stack.callback(redis.close)
        server = stack.enter_context(atende_server(env, port=port, workers=2, log=log))
        login = httpx.post(f"{base}/api/auth/login", json={"email": _EMAIL, "password": _PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = httpx.post(
            f"{base}/api/connections", json={"name": "Loja", "channel": "whatsapp"}, headers=headers
        )
        assert created.status_code == 201, created.text
        connection_id = created.json()["id"]
        mark = installation_mark(workers_env["DATABASE_URL"])
        lease = f"atende:lease:{mark}:connection:{connection_id}"

        # Exactly one worker runs it: the one whose id the lease holds, round after round.
        owner: str = _until(lambda: redis.get(lease))
        assert os.getpgid(_pid_of(owner)) == server.pid  # one of this server's workers
        rounds_end = time.monotonic() + LEASE_SECONDS
        while time.monotonic() < rounds_end:
            assert redis.get(lease) == owner
            shown = httpx.get(f"{base}/__test__/channels").json()
            assert (connection_id in shown["owned"]) == (shown["worker"] == owner), shown
            time.sleep(0.05)
        assert _runs_lines(log, connection_id) == [owner]

        def status() -> str:
            shown: str = httpx.get(
                f"{base}/api/connections/{connection_id}", headers=headers
            ).json()["status"]
            return shown

        assert status() == "connected"

        # kill -9 the worker that runs it; the other takes over once the lease expired.
        os.kill(_pid_of(owner), signal.SIGKILL)
        killed_at = time.monotonic()
        survivor: str = _until(
            lambda: ((redis.get(lease) or owner) != owner and redis.get(lease)) or None
        )
        took = time.monotonic() - killed_at
        # The lease outlives its holder by at most LEASE_SECONDS; the other worker looks every
        # third of that.
        assert took < LEASE_SECONDS * 4 / 3 + 1.0, took
        assert os.getpgid(_pid_of(survivor)) == server.pid
        assert connection_id in httpx.get(f"{base}/__test__/channels").json()["owned"]
        assert _runs_lines(log, connection_id) == [owner, survivor]
        _until(lambda: status() == "connected" or None)
