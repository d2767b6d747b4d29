"""The server's defences against slow and greedy clients, and who the client is.

The protocol tests run a bare Sanic app (no database) on `GuardedProtocol` with tight
limits, and talk to it over raw sockets, as a hostile client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pydantic import ValidationError
from sanic import Request, Sanic, json
from sanic.response import HTTPResponse

from service.errors import JsonErrorHandler
from service.server import GuardedProtocol, configure_limits, forwarded_client
from service.settings import Settings

LIMITS = Settings(
    request_timeout_seconds=0.6,
    response_timeout_seconds=0.5,
    max_header_bytes=2048,
    max_connections_per_ip=3,
)


@pytest_asyncio.fixture
async def bare() -> AsyncIterator[int]:
    """The port of a bare app with LIMITS on GuardedProtocol."""
    app: Sanic[Any, Any] = Sanic(f"bare_{uuid.uuid4().hex[:8]}")
    app.config.TOUCHUP = False  # a second rewrite of Sanic's methods in one process fails
    app.ctx.settings = LIMITS
    app.error_handler = JsonErrorHandler()
    configure_limits(app, LIMITS)

    @app.get("/")
    async def hello(request: Request) -> HTTPResponse:
        return json({"ok": True})

    @app.get("/slow")
    async def slow(request: Request) -> HTTPResponse:
        await asyncio.sleep(2)
        return json({"ok": True})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(
        sock=sock,
        return_asyncio_server=True,
        access_log=False,
        protocol=GuardedProtocol,
        asyncio_server_kwargs={"start_serving": False},
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.start_serving()
    await server.after_start()
    yield sock.getsockname()[1]
    await server.before_stop()
    await server.close()
    await server.after_stop()
    sock.close()


async def _status(reader: asyncio.StreamReader) -> int:
    async with asyncio.timeout(5):
        line = await reader.readline()
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


async def _get(port: int, path: str = "/") -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        return await _status(reader)
    finally:
        writer.close()


async def test_a_head_trickled_line_by_line_is_cut_off_at_the_deadline(bare: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", bare)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")

    async def trickle() -> None:
        # A header line every 0.2 s: Sanic's own timeout, reset by each byte, never fires.
        with contextlib.suppress(ConnectionError):
            for n in range(50):
                await asyncio.sleep(0.2)
                writer.write(f"X-Slow-{n}: {n}\r\n".encode())
                await writer.drain()

    started = time.monotonic()
    sender = asyncio.create_task(trickle())
    try:
        assert await _status(reader) == 408
    finally:
        sender.cancel()
        writer.close()
    assert time.monotonic() - started < 2


async def test_a_prompt_client_is_not_hurried(bare: int) -> None:
    assert await _get(bare) == 200


async def test_connections_beyond_the_cap_per_address_are_refused_with_429(bare: int) -> None:
    held = [await asyncio.open_connection("127.0.0.1", bare) for _ in range(3)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", bare)
        assert await _status(reader) == 429
        assert b"Retry-After: 10" in await reader.read(1000)
        writer.close()
    finally:
        for _, held_writer in held:
            held_writer.close()
    await asyncio.sleep(0.1)  # the server sees the closes
    assert await _get(bare) == 200  # the address is welcome again


async def test_headers_over_the_limit_are_refused(bare: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", bare)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
    assert await _status(reader) in (413, 431)
    writer.close()


async def test_a_handler_over_the_response_timeout_is_503_with_retry_after(bare: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", bare)
    writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await _status(reader) == 503
    head = await reader.read(1000)
    assert b"retry-after: 5" in head.lower()
    writer.close()


PROXIED = Settings(trusted_proxies="172.28.0.0/16, ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not a proxy: its header is a lie
        ("172.28.0.5", "198.51.100.1", "198.51.100.1"),  # the proxy names the client
        ("172.28.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left part is forged
        ("172.28.0.5", "198.51.100.1, 172.28.0.7", "198.51.100.1"),  # proxy behind proxy
        ("172.28.0.5", "", "172.28.0.5"),  # nothing forwarded: the proxy itself
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("", "", "unknown"),
    ],
)
def test_the_client_address_is_believed_only_from_trusted_proxies(
    peer: str, forwarded: str, client: str
) -> None:
    assert forwarded_client(peer, forwarded, PROXIED) == client


def test_no_trusted_proxies_by_default() -> None:
    assert forwarded_client("172.28.0.5", "198.51.100.1", Settings()) == "172.28.0.5"


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="caddy"):
        Settings(trusted_proxies="10.0.0.0/8, caddy")
