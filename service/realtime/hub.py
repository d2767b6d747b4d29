"""Fanout in one worker: every event from the broker goes to this worker's sockets whose
user may see its object, each event serialised once.

Who sees what mirrors the API (service/tickets/service.py `visible_tickets`): admins and
supervisors see all of their company; an agent sees a ticket assigned to them, or pending
in one of their queues (`queue_ids`; None among them: pending without a queue, for the
agents of the fallback queue). An agent who could see a ticket and no longer can (it was accepted
by someone else, transferred, closed) is told `ticket.removed` with the id only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service.auth.tokens import Principal
from service.loops import LoopHealth
from service.realtime.broker import SUBSCRIBED, Broker, event_id_key

__all__ = ["RealtimeHub", "Subscriber", "may_see"]

log = logging.getLogger("atende.realtime")

QUEUE_LIMIT = 2_000
# An agent's queues are read when the socket opens and again after this long.
QUEUES_MAX_AGE = 60.0
LOOP = "realtime"
# After the broker fails: listen again after 0.5 s, doubling up to 5 s while it stays down.
_RETRY_SECONDS = 0.25
_RETRY_MAX_SECONDS = 5.0

AudienceResolver = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def may_see(
    principal: Principal, queue_ids: frozenset[int | None], audience: dict[str, Any]
) -> bool:
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
    queue_ids: frozenset[int | None]
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
    def __init__(
        self, *, broker: Broker, resolve: AudienceResolver, health: LoopHealth | None = None
    ) -> None:
        self._broker = broker
        self._resolve = resolve
        self._health = health or LoopHealth()
        self._subscribers: defaultdict[int, set[Subscriber]] = defaultdict(set)
        # The id of the last event delivered, where the log is read from after an outage.
        self._last_id: str | None = None

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
        """Deliver the broker's events until cancelled. When the broker fails (Redis
        restarts), listen again, then deliver from its log what was published meanwhile:
        the sockets stay open and miss nothing."""
        while True:
            try:
                async for event in self._broker.listen():
                    if event.get("type") == SUBSCRIBED:
                        await self._caught_up()
                        self._health.ok(LOOP)
                    else:
                        await self._deliver(event)
                reason: BaseException | str = "the subscription ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = exc
            failures = self._health.failed(LOOP, reason)
            await asyncio.sleep(min(_RETRY_MAX_SECONDS, _RETRY_SECONDS * 2**failures))

    async def _deliver(self, event: dict[str, Any]) -> None:
        event_id = event.get("id")
        if isinstance(event_id, str):
            self._last_id = event_id
        try:
            await self.dispatch(event)
        except Exception:
            log.exception("event %s not delivered", event.get("type"))

    async def _caught_up(self) -> None:
        """Subscribed (again): deliver what the log holds after the last event delivered
        (the sockets skip what they already have), or, when the log no longer reaches back
        that far, tell every socket to re-fetch."""
        if self._last_id is None:
            # The first subscription: nothing missed yet; the log's end is the mark.
            with contextlib.suppress(Exception):
                self._last_id = await self._broker.latest_id()
            return
        missed = await self._broker.replay(self._last_id)
        if missed is None:
            latest = await self._broker.latest_id()
            frame = frame_of({"type": "resync", "id": latest, "data": None})
            for subscriber in self._all_subscribers():
                subscriber.hold_or_offer(frame, None)
        else:
            for event in missed:
                await self._deliver(event)
            if missed:
                log.info("%s live events delivered from the log after a gap", len(missed))

    def _all_subscribers(self) -> list[Subscriber]:
        return [s for company in self._subscribers.values() for s in company]

    async def dispatch(self, event: dict[str, Any]) -> None:
        audience = event.get("audience")
        if not isinstance(audience, dict):
            return  # internal (worker commands), never for sockets
        subscribers = self._subscribers.get(audience.get("company_id"))  # type: ignore[arg-type]
        if not subscribers:
            return
        delivery = await self._delivery(event, audience)
        if delivery is None:
            return
        for subscriber in list(subscribers):
            delivery.to(subscriber, live=True)

    async def replay(self, subscriber: Subscriber, events: list[dict[str, Any]]) -> None:
        """What a reconnecting socket missed, judged as if it had been live: the same
        frames, the same `ticket.removed`, audiences resolved the same way."""
        # A ticket's audience as it is now is the same for all its events: read it once.
        resolved: dict[Any, dict[str, Any] | None] = {}
        for event in events:
            audience = event.get("audience")
            if not isinstance(audience, dict):
                continue
            if audience.get("company_id") != subscriber.principal.company_id:
                continue
            delivery = await self._delivery(event, audience, resolved)
            if delivery is not None:
                delivery.to(subscriber, live=False)

    async def _delivery(
        self,
        event: dict[str, Any],
        audience: dict[str, Any],
        resolved: dict[Any, dict[str, Any] | None] | None = None,
    ) -> _Delivery | None:
        if "ticket_id" in audience and "status" not in audience:
            key = audience["ticket_id"]
            if resolved is not None and key in resolved:
                current = resolved[key]
            else:
                current = await self._resolve(audience)
                if resolved is not None:
                    resolved[key] = current
            if current is None:
                return None
            audience = {**audience, **current}
        return _Delivery(event, audience)


class _Delivery:
    """One event on its way to the sockets of its company, serialised once (the removal
    frame too, the first time someone needs it)."""

    __slots__ = ("_removal", "audience", "event", "event_id", "frame")

    def __init__(self, event: dict[str, Any], audience: dict[str, Any]) -> None:
        self.event = event
        self.audience = audience
        self.event_id: str | None = event.get("id")
        self.frame = frame_of(event)
        self._removal: str | None = None

    def to(self, subscriber: Subscriber, *, live: bool) -> None:
        offer = subscriber.hold_or_offer if live else subscriber.offer
        principal, queue_ids = subscriber.principal, subscriber.queue_ids
        if may_see(principal, queue_ids, self.audience):
            offer(self.frame, self.event_id)
        elif (was := self.audience.get("was")) is not None and may_see(principal, queue_ids, was):
            # The ticket left the view of someone who saw it; nobody else hears of it.
            if self._removal is None:
                self._removal = frame_of(
                    {
                        "type": "ticket.removed",
                        "id": self.event_id,
                        "data": {"id": self.audience["ticket_id"]},
                    }
                )
            offer(self._removal, self.event_id)


def frame_of(event: dict[str, Any]) -> str:
    """What a socket receives: the event without its audience."""
    return json.dumps(
        {"type": event["type"], "id": event.get("id"), "data": event.get("data")},
        separators=(",", ":"),
        default=str,
    )
