"""schemathesis against the app's own OpenAPI document: no input makes it answer 500."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from redis.asyncio import Redis

from service.settings import Settings
from tests.processes import atende_server, free_port, settings_env

pytestmark = pytest.mark.slow

_PASSWORD = "fuzzing password"


@pytest_asyncio.fixture
async def fuzz_env(test_settings: Settings, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The server under fuzzing: the suite's Postgres database, or a SQLite file of its own."""
    env = settings_env(test_settings)
    env["DATA_DIR"] = str(tmp_path / "fuzz-data")
    if test_settings.redis_url:
        # Its own Redis database: the fuzzer's failed logins must not rate-limit the suite.
        redis_url = urlunsplit(urlsplit(test_settings.redis_url)._replace(path="/14"))
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
        env["REDIS_URL"] = redis_url
    yield env


def _api_token(base: str, email: str) -> str:
    """An API token (acting as an admin) of the fuzzing admin's company."""
    login = httpx.post(f"{base}/api/auth/login", json={"email": email, "password": _PASSWORD})
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = httpx.post(f"{base}/api/api-tokens", json={"name": "fuzz"}, headers=headers)
    created.raise_for_status()
    token: str = created.json()["token"]
    return token


def test_no_input_makes_the_api_fail(fuzz_env: dict[str, str], tmp_path: Path) -> None:
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    command = [sys.executable, "-m", "service.cli", "createadmin", "--email", email]
    subprocess.run([*command, "--password", _PASSWORD], env=fuzz_env, check=True)
    port = free_port()
    with atende_server(fuzz_env, port=port, log=tmp_path / "serve.log"):
        base = f"http://127.0.0.1:{port}"
        schema = schemathesis.openapi.from_url(f"{base}/docs/openapi.json")
        headers = {"Authorization": f"Bearer {_api_token(base, email)}"}
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1

            @given(case=operation.as_strategy())
            @settings(
                max_examples=30,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def no_server_error(case: schemathesis.Case) -> None:
                response = case.call(base_url=base, headers=headers)
                assert response.status_code < 500, (
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:300]} (body={case.body!r}, query={case.query!r})"
                )

            try:
                no_server_error()
            except AssertionError as failure:
                failures.append(str(failure).splitlines()[0])
        log = (tmp_path / "serve.log").read_text()
    assert operations >= 10
    assert not failures, "\n".join(failures) + "\n" + log[-3000:]
