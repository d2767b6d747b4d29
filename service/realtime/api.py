"""`GET /ws?token=…&since=…`: a tab's live feed, and `GET /api/presence`.

On connect the socket gets `hello` (the user's id, who is online, and the id of the newest
event), then, when `since` names an event it saw, everything after it that it may see, then
live events. Each event carries its `id`; a client keeps the last one and reconnects with
`since=` it, so it neither misses nor repeats an event. When the log no longer reaches back
that far it gets `resync` and must re-fetch its lists.

The client sends `{"type": "ping"}` every ~25 s: that keeps the user online."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import Counter
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.server.websockets.impl import WebsocketImplProtocol

from service.auth.guard import principal_of, requires
from service.auth.tokens import Principal
from service.errors import Unauthorized
from service.http import respond
from service.openapi import documented
from service.realtime.broker import Broker
from service.realtime.hub import QUEUES_MAX_AGE, RealtimeHub, Subscriber
from service.realtime.presence import PRESENCE_UPDATED, Presence, PresenceOut
from service.server import client_ip
from service.tickets.service import agent_queue_ids
from service.users.models import Role

__all__ = ["bp"]

log = logging.getLogger("atende.realtime")

bp = Blueprint("realtime")

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4008
CLOSE_TOO_MANY = 4029

# Live sockets per client address in this worker (MAX_WEBSOCKETS_PER_IP): a socket costs a
# subscriber and its queue for as long as it stays open.
_open_sockets: Counter[str] = Counter()


async def _queue_ids(principal: Principal) -> frozenset[int | None]:
    # As the ticket lists see it: None stands for the tickets without a queue.
    return await agent_queue_ids(principal)


def _presence_event(principal: Principal, online: bool) -> dict[str, Any]:
    data = PresenceOut(user_id=principal.user_id, online=online)
    return {
        "type": PRESENCE_UPDATED,
        "data": data.model_dump(),
        "audience": {"company_id": principal.company_id},
    }


class SocketQuery(BaseModel):
    """The query of `GET /ws` (documentation only: the socket reads `request.args` itself)."""

    token: str = Field(
        description="An access token (from POST /api/auth/login) or an API token; the socket"
        " closes with 4401 when it is missing, invalid or expired"
    )
    since: str | None = Field(
        default=None,
        description="The `id` of the last event this client received: the socket first sends"
        " every later event the caller may see, or `resync` when the log no longer reaches"
        " back that far",
    )


@bp.websocket("/ws")  # type: ignore[untyped-decorator]
@documented(query=SocketQuery, status=101, secured=False, without=(400, 422))
async def socket(request: Request, ws: WebsocketImplProtocol) -> None:
    """The live feed: a websocket of the events of the caller's company it may see.

    First `{"type": "hello", "data": {user_id, role, online, last_id}}`, then (with `since`)
    the events missed, then live ones; each frame is `{"type", "id", "data"}`. Send
    `{"type": "ping"}` about every 25 seconds: the answer is `pong`, and the user stays
    online. Close codes: 4401 the token is not valid, 4008 the client fell too far behind
    (reconnect with `since`), 4029 too many live sockets from the client's address.
    """
    address = client_ip(request)
    if _open_sockets[address] >= request.app.ctx.settings.max_websockets_per_ip:
        await ws.close(code=CLOSE_TOO_MANY, reason="Too many live connections from your address")
        return
    _open_sockets[address] += 1
    try:
        await _socket(request, ws)
    finally:
        _open_sockets[address] -= 1
        if _open_sockets[address] <= 0:
            del _open_sockets[address]


async def _socket(request: Request, ws: WebsocketImplProtocol) -> None:
    try:
        principal = await principal_of(request, request.args.get("token", ""))
    except Unauthorized as exc:
        await ws.close(code=CLOSE_UNAUTHORIZED, reason=str(exc))
        return
    hub: RealtimeHub = request.app.ctx.realtime
    broker: Broker = request.app.ctx.broker
    presence: Presence = request.app.ctx.presence
    subscriber = Subscriber(principal=principal, queue_ids=await _queue_ids(principal))
    # Listen before replaying, so nothing published meanwhile falls between the two; the
    # subscriber drops what it already sent.
    hub.add(subscriber)
    socket_id = secrets.token_hex(8)
    user_id = principal.user_id
    try:
        if user_id is not None and await presence.join(principal.company_id, user_id, socket_id):
            await broker.publish(_presence_event(principal, online=True))
        await _greet(ws, subscriber, hub, broker, presence, request.args.get("since"))
        await _serve(ws, subscriber, presence, socket_id)
    finally:
        hub.remove(subscriber)
        if user_id is not None and await presence.leave(principal.company_id, user_id, socket_id):
            with contextlib.suppress(Exception):
                await broker.publish(_presence_event(principal, online=False))


async def _greet(
    ws: WebsocketImplProtocol,
    subscriber: Subscriber,
    hub: RealtimeHub,
    broker: Broker,
    presence: Presence,
    since: str | None,
) -> None:
    principal = subscriber.principal
    online = await presence.online(principal.company_id)
    latest = await broker.latest_id()
    hello = {
        "user_id": principal.user_id,
        "role": principal.role.value,
        "online": sorted(online),
        "last_id": latest,
    }
    await ws.send(json.dumps({"type": "hello", "id": None, "data": hello}))
    missed = await broker.replay(since) if since else []
    if missed is None:
        await ws.send(json.dumps({"type": "resync", "id": latest, "data": None}))
        subscriber.release()
        return
    await hub.replay(subscriber, missed)
    subscriber.release()


async def _serve(
    ws: WebsocketImplProtocol, subscriber: Subscriber, presence: Presence, socket_id: str
) -> None:
    sender = asyncio.get_running_loop().create_task(_send_frames(ws, subscriber))
    principal = subscriber.principal
    try:
        while not sender.done():
            message = await ws.recv(timeout=30)
            if message is None:
                if ws.ws_proto.state.name in ("CLOSING", "CLOSED"):
                    break
                continue
            if _is_ping(message):
                if principal.user_id is not None:
                    await presence.beat(principal.company_id, principal.user_id, socket_id)
                if time.monotonic() - subscriber.queues_read_at > QUEUES_MAX_AGE:
                    subscriber.queue_ids = await _queue_ids(principal)
                    subscriber.queues_read_at = time.monotonic()
                await ws.send('{"type":"pong","id":null,"data":null}')
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


def _is_ping(message: str | bytes) -> bool:
    try:
        parsed = json.loads(message)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("type") == "ping"


async def _send_frames(ws: WebsocketImplProtocol, subscriber: Subscriber) -> None:
    while True:
        frame = await subscriber.frames.get()
        if frame is None:
            await ws.close(code=CLOSE_TOO_SLOW, reason="too far behind: reconnect with since")
            return
        await ws.send(frame)


@bp.get("/api/presence")
@documented()
@requires(Role.admin, Role.supervisor, Role.agent)
async def online_users(request: Request, principal: Principal) -> HTTPResponse:
    """The users of my company who are online now (a live socket with a recent heartbeat)."""
    users = await request.app.ctx.presence.online(principal.company_id)
    return respond({"online": sorted(users)})
