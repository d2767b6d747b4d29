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

from tests.processes import atende_server, free_port, private_redis

pytestmark = pytest.mark.slow


def _workers(main_pid: int) -> dict[str, int]:
    """The server workers among the main process's children: name → pid."""
    found: dict[str, int] = {}
    for child in Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split():
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        for entry in environ:
            if entry.startswith(b"SANIC_WORKER_NAME=Sanic-Server"):
                found[entry.split(b"=", 1)[1].decode()] = int(child)
    return found


def _until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
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
            _until(lambda: len(_workers(server.pid)) == 2, "two workers")
            _until(lambda: http.get("/health").json()["workers"]["running"] == 2, "health")
            assert http.get("/health").json()["workers"] == {"running": 2, "of": 2, "restarts": 0}
            for restarts in (1, 2):  # and the replacement is watched like the first
                name, pid = sorted(_workers(server.pid).items())[0]
                os.kill(pid, signal.SIGKILL)
                _until(lambda n=name, p=pid: _workers(server.pid).get(n, p) != p, "replaced")
                expected = {"running": 2, "of": 2, "restarts": restarts}
                _until(lambda e=expected: http.get("/health").json()["workers"] == e, "health")
            assert all(http.get("/health").status_code == 200 for _ in range(10))
    text = log.read_text()
    assert text.count("died with exit code -9; starting another") == 2, text
