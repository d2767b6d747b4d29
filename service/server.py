"""The HTTP server's defences against slow and greedy clients, and who the client is.

Sanic's own request timeout restarts with every byte received, so a client trickling one
header line every few seconds holds its connection forever; a few thousand such clients
take a worker's sockets. `GuardedProtocol` gives the whole request head one deadline and
caps the connections one address may hold. Behind a reverse proxy every connection comes
from the proxy, so the proxy is exempt and the client's address is read from its
X-Forwarded-For (`client_ip`), but only when TRUSTED_PROXIES names the peer.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import RequestTimeout
from sanic.http.constants import Stage
from sanic.server.protocols.websocket_protocol import WebSocketProtocol

from service.settings import Settings

__all__ = [
    "GuardedProtocol",
    "client_ip",
    "configure_limits",
    "forwarded_client",
    "is_trusted_proxy",
]

_TOO_MANY_BODY = (
    b'{"error": {"code": "rate_limited", "message": "Too many connections from your address"}}'
)
_TOO_MANY = (
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
    b"Retry-After: 10\r\nConnection: close\r\n"
    + f"Content-Length: {len(_TOO_MANY_BODY)}\r\n\r\n".encode()
    + _TOO_MANY_BODY
)


def configure_limits(app: Sanic[Any, Any], settings: Settings) -> None:
    """Sanic's timeouts and sizes from our settings (the head deadline is GuardedProtocol's)."""
    app.config.REQUEST_TIMEOUT = settings.request_timeout_seconds
    app.config.RESPONSE_TIMEOUT = settings.response_timeout_seconds
    app.config.KEEP_ALIVE_TIMEOUT = settings.keep_alive_timeout_seconds
    app.config.REQUEST_MAX_HEADER_SIZE = settings.max_header_bytes


def is_trusted_proxy(address: str, settings: Settings) -> bool:
    networks = settings.proxy_networks
    if not networks or not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Request) -> str:
    """The address of the client behind `request` (see `forwarded_client`)."""
    peer = str(request.conn_info.client_ip) if request.conn_info else ""
    forwarded = str(request.headers.get("x-forwarded-for", ""))
    return forwarded_client(peer, forwarded, request.app.ctx.settings)


def forwarded_client(peer: str, forwarded: str, settings: Settings) -> str:
    """The socket's peer, or, when that peer is a trusted proxy, the right-most address in
    X-Forwarded-For that is not itself a trusted proxy: proxies append, so everything left
    of that is whatever the client chose to send."""
    if not is_trusted_proxy(peer, settings):
        return peer or "unknown"
    hops = [hop.strip() for hop in forwarded.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not is_trusted_proxy(hop, settings):
            return hop
    return peer


class GuardedProtocol(WebSocketProtocol):
    """Sanic's protocol (websockets included) with a deadline on the whole request head and
    a cap on concurrent connections per address (per worker: each counts its own)."""

    # Sanic's metaclass gives every protocol class empty __slots__, so ours are declared.
    __slots__ = ("_counted", "_head_since", "_peer")
    _open: Counter[str] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._peer = ""
        self._counted = False
        self._head_since: float | None = None

    def connection_made(self, transport: Any) -> None:
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        settings: Settings = self.app.ctx.settings
        limited = not is_trusted_proxy(self._peer, settings)
        if limited and self._open[self._peer] >= settings.max_connections_per_ip:
            transport.write(_TOO_MANY)
            transport.close()
            return
        if limited:
            self._open[self._peer] += 1
            self._counted = True
        super().connection_made(transport)  # type: ignore[no-untyped-call]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self._open[self._peer] -= 1
            if self._open[self._peer] <= 0:
                del self._open[self._peer]
        if self.transport is not None:
            super().connection_lost(exc)  # type: ignore[no-untyped-call]

    def data_received(self, data: bytes) -> None:
        # Bytes in an idle connection start a new request head, and its clock.
        # _http is set by the connection task, which may not have run yet.
        http = getattr(self, "_http", None)
        stage = http.stage if http is not None else Stage.IDLE
        if stage is Stage.IDLE or (stage is Stage.REQUEST and self._head_since is None):
            self._head_since = time.monotonic()
        super().data_received(data)  # type: ignore[no-untyped-call]

    def check_timeouts(self) -> None:
        http = getattr(self, "_http", None)
        if (
            http is not None
            and self._task is not None
            and http.stage is Stage.REQUEST
            and self._head_since is not None
            and time.monotonic() - self._head_since > self.request_timeout
        ):
            http.exception = RequestTimeout("Request Timeout")
            self._task.cancel("the request head took too long")
            return
        super().check_timeouts()  # type: ignore[no-untyped-call]
