"""The real `atende serve` process, as a newcomer starts it: embedded defaults, first admin."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from tests.processes import atende_server, free_port

pytestmark = pytest.mark.slow


def test_serve_embedded_creates_the_first_admin_and_logs_in(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"})
    env.pop("ATENDE_ADMIN_PASSWORD", None)
    env.pop("ATENDE_ADMIN_EMAIL", None)
    port = free_port()
    log = tmp_path / "serve.log"
    with atende_server(env, port=port, log=log):
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert health == {
            "status": "ok",
            "db": "ok",
            "broker": "in-process",
            "workers": {"running": 1, "of": 1, "restarts": 0},
        }
        printed = log.read_text()
        match = re.search(r"Log in as (\S+) with password (\S+)", printed)
        assert match, printed
        email, password = match.groups()
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        user = response.json()["user"]
        assert user["is_super"] is True
        assert user["role"] == "admin"
    assert (tmp_path / "data" / "atende.sqlite3").exists()
    assert (tmp_path / "data" / "secret_key").exists()

    # A second start finds the admin and does not print a password again.
    with atende_server(env, port=port, log=log):
        assert "with password" not in log.read_text()
