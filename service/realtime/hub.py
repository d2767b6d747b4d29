"""Fanout in one worker: every event from the broker goes to this worker's sockets whose
user may see its object, each event serialised once.

Who sees what mirrors the API (service/tickets/service.py `visible_tickets`): admins and
supervisors see all of their company; an agent sees a ticket assigned to them, or pending
in one of their queues. An agent who could see a ticket and no longer can (it was accepted
by someone else, transferred, closed) is told `ticket.removed` with the id only."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service.auth.tokens import Principal
from service.realtime.broker import Broker, event_id_key

__all__ = ["RealtimeHub", "Subscriber", "may_see"]

log = logging.getLogger("atende.realtime")

QUEUE_LIMIT = 2_000
# An agent's queues are read when the socket opens and again after this long.
QUEUES_MAX_AGE = 60.0

AudienceResolver = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def may_see(principal: Principal, queue_ids: frozenset[int], audience: dict[str, Any]) -> bool:
    """Whether this user may see the object an event with this audience is about."""
    if audience.get("company_id") != principal.company_id:
        return False
    roles = audience.get("roles")
    if roles is not None and principal.role.value not in roles:
        return False
    if principal.sees_all_tickets:
        return True
    if "ticket_id" in audience:
        if audience.get("user_id") is not None:
            return bool(audience["user_id"] == principal.user_id)
        return audience.get("status") == "pending" and audience.get("queue_id") in queue_ids
    if audience.get("user_id") is not None:
        return bool(audience["user_id"] == principal.user_id)
    return True


@dataclass(eq=False)
class Subscriber:
    """One open socket: what it may see, and the frames waiting to be sent to it."""

    principal: Principal
    queue_ids: frozenset[int]
    queues_read_at: float = field(default_factory=time.monotonic)
    frames: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    last_id: tuple[int, int] = (0, 0)
    overflowed: bool = False
    # Live events that arrive while a reconnecting socket is replayed wait here, so that
    # the socket receives everything in id order.
    held: list[tuple[str, str | None]] | None = field(default_factory=list)

    def hold_or_offer(self, frame: str, event_id: str | None) -> None:
        if self.held is not None:
            self.held.append((frame, event_id))
        else:
            self.offer(frame, event_id)

    def release(self) -> None:
        """The replay is done: live events from now on, the held ones first."""
        held, self.held = self.held or [], None
        for frame, event_id in held:
            self.offer(frame, event_id)

    def offer(self, frame: str, event_id: str | None) -> None:
        """Queue a frame unless it was already sent (replay and live overlap on reconnect)."""
        if event_id is not None:
            key = event_id_key(event_id)
            if key <= self.last_id:
                return
            self.last_id = key
        try:
            self.frames.put_nowait(frame)
        except asyncio.QueueFull:
            # A socket this far behind gets closed; its client reconnects and catches up.
            self.overflowed = True
            self.frames = asyncio.Queue(1)
            self.frames.put_nowait(None)


class RealtimeHub:
    def __init__(self, *, broker: Broker, resolve: AudienceResolver) -> None:
        self._broker = broker
        self._resolve = resolve
        self._subscribers: defaultdict[int, set[Subscriber]] = defaultdict(set)

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers[subscriber.principal.company_id].add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        company = self._subscribers.get(subscriber.principal.company_id)
        if company is not None:
            company.discard(subscriber)
            if not company:
                del self._subscribers[subscriber.principal.company_id]

    @property
    def socket_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def run(self) -> None:
        """Deliver the broker's events until cancelled."""
        async for event in self._broker.listen():
            try:
                await self.dispatch(event)
            except Exception:
                log.exception("event %s not delivered", event.get("type"))

    async def dispatch(self, event: dict[str, Any]) -> None:
        audience = event.get("audience")
        if not isinstance(audience, dict):
            return  # internal (worker commands), never for sockets
        subscribers = self._subscribers.get(audience.get("company_id"))  # type: ignore[arg-type]
        if not subscribers:
            return
        if "ticket_id" in audience and "status" not in audience:
            resolved = await self._resolve(audience)
            if resolved is None:
                return
            audience = resolved
        event_id = event.get("id")
        frame = frame_of(event)
        removal: str | None = None
        for subscriber in list(subscribers):
            if may_see(subscriber.principal, subscriber.queue_ids, audience):
                subscriber.hold_or_offer(frame, event_id)
            elif event.get("type") == "ticket.updated":
                removal = removal or frame_of(
                    {
                        "type": "ticket.removed",
                        "id": event_id,
                        "data": {"id": audience["ticket_id"]},
                    }
                )
                subscriber.hold_or_offer(removal, event_id)


def frame_of(event: dict[str, Any]) -> str:
    """What a socket receives: the event without its audience."""
    return json.dumps(
        {"type": event["type"], "id": event.get("id"), "data": event.get("data")},
        separators=(",", ":"),
        default=str,
    )
