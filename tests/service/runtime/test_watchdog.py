"""A worker of `atende serve --workers 2` that dies (kill -9) is logged and replaced, and
/health says how many run meanwhile."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.processes import atende_server, free_port, private_redis, server_workers

pytestmark = pytest.mark.slow


def _until(condition: Callable[[], bool], what: str, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}\n{log.read_text()}"
        time.sleep(0.2)


def test_a_killed_worker_is_replaced_and_health_tells(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with private_redis() as redis:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"REDIS_URL": redis.url, "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
        port = free_port()
        with (
            atende_server(env, port=port, workers=2, log=log) as server,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
        ):
            _until(lambda: len(server_workers(server.pid)) == 2, "two workers", log)
            _until(lambda: http.get("/health").json()["workers"]["running"] == 2, "health", log)
            assert http.get("/health").json()["workers"] == {"running": 2, "of": 2, "restarts": 0}
            for restarts in (1, 2):  # and the replacement is watched like the first
                name, pid = sorted(server_workers(server.pid).items())[0]
                os.kill(pid, signal.SIGKILL)
                _until(
                    lambda n=name, p=pid: server_workers(server.pid).get(n, p) != p,
                    f"{name} (pid {pid}) replaced, round {restarts}",
                    log,
                )
                expected = {"running": 2, "of": 2, "restarts": restarts}
                _until(lambda e=expected: http.get("/health").json()["workers"] == e, "health", log)
            assert all(http.get("/health").status_code == 200 for _ in range(10))
            metrics = http.get("/metrics").text
            assert "atende_worker_restarts 2.0" in metrics
            assert "atende_workers_running 2.0" in metrics
    text = log.read_text()
    assert text.count("died with exit code -9; starting another") == 2, text
