"""The inbox's websocket as a test sees it: one tab's feed, and hand-built ticket events."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sanic import Sanic
from websockets.asyncio.client import ClientConnection, connect

from service.realtime.broker import Broker
from tests.factories import SYNTHETIC

_markers = itertools.count(1)


class Feed:
    """One browser tab's socket."""

    def __init__(self, ws: ClientConnection, hello: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(5):
            return dict(json.loads(await self.ws.recv()))

    async def until(self, event_type: str, **data: Any) -> list[dict[str, Any]]:
        """Everything received up to and including the first event of this type (whose data
        has these values)."""
        seen: list[dict[str, Any]] = []
        while True:
            event = await self.next()
            seen.append(event)
            if event["type"] == event_type and all(
                (event["data"] or {}).get(k) == v for k, v in data.items()
            ):
                return seen

    async def drain(self, broker: Broker, company_id: int) -> list[dict[str, Any]]:
        """What arrived before a marker published now to the whole company."""
        marker = next(_markers)
        await broker.publish(
            {"type": "test.marker", "data": {"n": marker}, "audience": {"company_id": company_id}}
        )
        seen: list[dict[str, Any]] = []
        while True:
            event = await self.next()
            if event["type"] != "test.marker":
                seen.append(event)
            elif event["data"]["n"] == marker:
                return seen


@asynccontextmanager
async def feed(app: Sanic[Any, Any], token: str, since: str | None = None) -> AsyncIterator[Feed]:
    url = app.ctx.test_base_url.replace("http://", "ws://") + f"/ws?token={token}"
    if since is not None:
        url += f"&since={since}"
    async with connect(url) as ws:
        async with asyncio.timeout(5):
            hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        yield Feed(ws, hello["data"])


def ticket_event(ticket: Any, event_type: str = "ticket.updated", **data: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "data": {"id": ticket.id, **data},
        "audience": {
            SYNTHETIC: True,
            "company_id": ticket.company_id,
            "queue_id": ticket.queue_id,
            "user_id": ticket.user_id,
            "status": str(ticket.status),
            "ticket_id": ticket.id,
        },
    }
