"""Timers, read from the database so that a restart loses none: the rating question lapses,
idle bot conversations close, tickets waiting without a queue move to the fallback queue.

Each pass is idempotent (conditional updates), so several workers may run it at once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from service.clock import Clock
from service.companies.schemas import CompanySettings
from service.companies.service import get_company_settings
from service.realtime.broker import Broker
from service.realtime.events import ticket_audience
from service.tickets.models import Ticket, TicketStatus

__all__ = ["Scheduler"]

log = logging.getLogger("atende.scheduler")

# The longest rating timeout a company may set (CompanySettings.csat_timeout_minutes).
_LONGEST_RATING_WAIT = timedelta(minutes=10080)
_SHORTEST_TIMER = timedelta(minutes=5)


class Scheduler:
    def __init__(self, *, clock: Clock, broker: Broker) -> None:
        self._clock = clock
        self._broker = broker

    async def run_due(self) -> dict[str, int]:
        """One pass over every timer; returns how many tickets each timer changed."""
        return {
            "ratings_expired": await self._expire_ratings(),
            "idle_closed": await self._close_idle_bot_tickets(),
            "unqueued_moved": await self._move_unqueued(),
        }

    async def _expire_ratings(self) -> int:
        now = self._clock()
        candidates = await Ticket.filter(
            status=TicketStatus.closed, rating=None, closed_at__gte=now - _LONGEST_RATING_WAIT
        )
        changed = 0
        settings = _SettingsCache()
        for ticket in candidates:
            if not ticket.flow_state.get("awaiting_rating") or ticket.closed_at is None:
                continue
            timeout = timedelta(minutes=(await settings.of(ticket)).csat_timeout_minutes)
            if ticket.closed_at + timeout > now:
                continue
            ticket.flow_state = {**ticket.flow_state, "awaiting_rating": False}
            await ticket.save(update_fields=["flow_state"])
            changed += 1
        return changed

    async def _close_idle_bot_tickets(self) -> int:
        now = self._clock()
        candidates = await Ticket.filter(
            status=TicketStatus.bot, last_message_at__lte=now - _SHORTEST_TIMER
        )
        changed = 0
        settings = _SettingsCache()
        for ticket in candidates:
            minutes = (await settings.of(ticket)).inactivity_close_minutes
            if minutes is None or ticket.last_message_at is None:
                continue
            if ticket.last_message_at + timedelta(minutes=minutes) > now:
                continue
            closed = await Ticket.filter(id=ticket.id, status=TicketStatus.bot).update(
                status=TicketStatus.closed, closed_at=now, flow_state={}
            )
            if closed:
                changed += 1
                await self._announce(ticket.id)
        return changed

    async def _move_unqueued(self) -> int:
        now = self._clock()
        candidates = await Ticket.filter(
            status=TicketStatus.pending, queue_id=None, handed_off_at__lte=now - _SHORTEST_TIMER
        )
        changed = 0
        settings = _SettingsCache()
        for ticket in candidates:
            company = await settings.of(ticket)
            minutes, queue_id = company.unqueued_timeout_minutes, company.fallback_queue_id
            if minutes is None or queue_id is None or ticket.handed_off_at is None:
                continue
            if ticket.handed_off_at + timedelta(minutes=minutes) > now:
                continue
            moved = await Ticket.filter(
                id=ticket.id, status=TicketStatus.pending, queue_id=None
            ).update(queue_id=queue_id)
            if moved:
                changed += 1
                await self._announce(ticket.id)
        return changed

    async def _announce(self, ticket_id: int) -> None:
        ticket = await Ticket.get(id=ticket_id)
        data: dict[str, Any] = {
            "id": ticket.id,
            "status": ticket.status,
            "queue_id": ticket.queue_id,  # type: ignore[attr-defined]
        }
        await self._broker.publish(
            {"type": "ticket.updated", "data": data, "audience": ticket_audience(ticket)}
        )


class _SettingsCache:
    """Each company's settings read once per pass."""

    def __init__(self) -> None:
        self._by_company: dict[int, CompanySettings] = {}

    async def of(self, ticket: Ticket) -> CompanySettings:
        company_id: int = ticket.company_id  # type: ignore[attr-defined]
        if company_id not in self._by_company:
            self._by_company[company_id] = await get_company_settings(company_id=company_id)
        return self._by_company[company_id]
