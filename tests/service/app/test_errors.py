"""Every error has one JSON shape and the right status; a user's mistake is never a 500."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from service.errors import is_outage
from tests.factories import Tenant
from tests.processes import atende_server, free_port, private_postgres


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, object] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "bad_request")


async def test_wrong_types_and_missing_fields_are_422_naming_them(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/auth/login", json={"email": 42})
    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"email", "password"}  # type: ignore[arg-type]


async def test_a_body_that_is_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json=["a", "list"])
    error = assert_error(response, 422, "invalid")
    assert "body" in error["fields"]  # type: ignore[operator]


async def test_unknown_fields_are_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"email": "a@b.co", "password": "x", "admin": True}
    )
    error = assert_error(response, 422, "invalid")
    assert "admin" in error["fields"]  # type: ignore[operator]


async def test_unknown_route_is_404_json(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/no-such-thing"), 404, "not_found")
    assert_error(await client.get("/nothing/here"), 404, "not_found")


async def test_wrong_method_is_405_json(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/api/auth/login"), 405, "method_not_allowed")


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    # The server answers on the declared length, before the body arrives, and closes; a raw
    # socket reads that answer where an HTTP client still busy sending would see a reset.
    limit = 20 * 1024 * 1024  # Settings.max_body_bytes default
    url = httpx.URL(str(client.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {limit + 1}\r\n\r\n".encode()
        + b'{"email": "'
    )
    await writer.drain()
    raw = await reader.read(65536)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(body)["error"]["code"] == "payload_too_large"


async def test_a_bug_is_a_logged_500_carrying_the_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="atende.errors"):
        response = await client.get("/__test__/boom", headers={"X-Request-ID": "req-abc-123"})
    error = assert_error(response, 500, "internal")
    assert error["request_id"] == "req-abc-123"
    assert response.headers["X-Request-ID"] == "req-abc-123"
    assert "a bug, on purpose" not in response.text  # internals stay in the log
    assert any("req-abc-123" in record.getMessage() for record in caplog.records)


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert len(response.headers["X-Request-ID"]) == 32


async def test_deeply_nested_json_is_400(client: httpx.AsyncClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = await client.post(
        "/api/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "bad_request")


async def test_ids_beyond_the_key_column_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.delete(f"/api/api-tokens/{2**40}", headers=tenant.headers)
    assert_error(response, 404, "not_found")


async def test_forged_cursors_are_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    import base64

    for forged in ("not-base64!", base64.urlsafe_b64encode(f"id:{2**40}".encode()).decode()):
        response = await client.get(
            "/api/api-tokens", params={"cursor": forged}, headers=tenant.headers
        )
        error = assert_error(response, 422, "invalid")
        assert "cursor" in error["fields"]  # type: ignore[operator]


async def test_text_the_database_cannot_store_is_422_everywhere(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for path, body in (
        ("/api/users", {"name": "a\x00b", "email": "nul@example.com", "password": "long enough"}),
        ("/api/queues", {"name": "fila", "keywords": ["ok", "bad\x00"]}),
    ):
        response = await client.post(path, json=body, headers=tenant.headers)
        assert_error(response, 422, "invalid")
    lone_surrogate = b'{"name": "\\ud800", "shortcut": "x", "text": "y"}'
    response = await client.post(
        "/api/quick-replies",
        content=lone_surrogate,
        headers={"content-type": "application/json", **tenant.headers},
    )
    assert_error(response, 422, "invalid")


def test_outages_are_recognised_from_the_real_drivers_errors() -> None:
    async def refused() -> list[BaseException]:
        errors: list[BaseException] = []
        for attempt in (
            asyncpg.connect(f"postgres://postgres@127.0.0.1:{free_port()}/x", timeout=2),
            Redis(port=free_port(), socket_connect_timeout=1).ping(),
        ):
            try:
                await attempt
            except Exception as exc:
                errors.append(exc)
        return errors

    errors = asyncio.run(refused())
    assert len(errors) == 2
    assert all(is_outage(e) for e in errors), errors
    wrapped = RuntimeError("wrapped, as Tortoise does")
    wrapped.__cause__ = ConnectionRefusedError("refused")
    assert is_outage(wrapped)
    assert not is_outage(ValueError("a bug"))
    assert not is_outage(KeyError("status"))


@pytest.mark.slow
def test_requests_during_a_database_outage_are_503_and_recover(tmp_path: Path) -> None:
    """`atende serve` on a Postgres of its own, which is stopped and started under it."""
    login = {"email": "nobody@example.com", "password": "wrong password"}
    with private_postgres() as postgres:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"DATABASE_URL": postgres.url, "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
        port = free_port()
        with (
            atende_server(env, port=port, log=tmp_path / "server.log"),
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
        ):
            assert http.post("/api/auth/login", json=login).status_code == 401
            postgres.stop()
            answers = [http.post("/api/auth/login", json=login) for _ in range(20)]
            answers.append(http.get("/health"))
            assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
            assert all(a.headers.get("retry-after") == "5" for a in answers)
            assert answers[0].json()["error"]["code"] == "unavailable"
            postgres.start()
            deadline = time.monotonic() + 15
            while (status := http.post("/api/auth/login", json=login).status_code) != 401:
                assert status == 503, status
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert http.get("/health").status_code == 200
        log = (tmp_path / "server.log").read_text()
        assert "unhandled error" not in log, log  # asyncpg's pool may warn, with its traceback
        assert log.count("service unavailable") <= 2, log  # one line per burst, not per request
