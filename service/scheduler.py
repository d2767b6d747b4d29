"""Timers, read from the database so that a restart loses none: the rating question lapses,
idle bot conversations close, tickets waiting without a queue move to the fallback queue.

Each change is made through the ticket's lifecycle under the ticket's row lock, re-checked
there, so several workers may run a pass at once and a ticket changes once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from service.clock import Clock
from service.companies.schemas import CompanySettings
from service.companies.service import get_company_settings
from service.realtime.broker import Broker
from service.realtime.events import transaction_with_events
from service.tickets import lifecycle
from service.tickets.audience import ticket_audience
from service.tickets.history import announce, record
from service.tickets.lifecycle import TIMER, Change
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
            if not lifecycle.awaiting_rating(ticket) or ticket.closed_at is None:
                continue
            timeout = timedelta(minutes=(await settings.of(ticket)).csat_timeout_minutes)
            if ticket.closed_at + timeout > now:
                continue
            changed += await self._change(ticket.id, _expire_rating, now)
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
            changed += await self._change(ticket.id, _close_idle(minutes), now)
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
            changed += await self._change(ticket.id, _fallback(queue_id), now)
        return changed

    async def _change(self, ticket_id: int, timer: _Timer, now: datetime) -> int:
        """Apply a timer to the ticket under its row lock (another worker's pass may have
        applied it, or the customer written, since it was read): 1 if it changed it."""
        async with transaction_with_events(self._broker) as batch:
            ticket = await Ticket.filter(id=ticket_id).select_for_update().first()
            if ticket is None:
                return 0
            was = ticket_audience(ticket)
            change = timer(ticket, now)
            if change is None:
                return 0
            await ticket.save()
            await record([change], batch)
            await announce(ticket, batch, was=was)
            return 1


# A timer's change to a ticket read under its lock; None when it no longer applies.
_Timer = Callable[[Ticket, datetime], Change | None]


def _expire_rating(ticket: Ticket, now: datetime) -> Change | None:
    return lifecycle.expire_rating(ticket, by=TIMER, now=now)


def _close_idle(minutes: int) -> _Timer:
    def close(ticket: Ticket, now: datetime) -> Change | None:
        last = ticket.last_message_at
        if ticket.status is not TicketStatus.bot or last is None:
            return None
        if last + timedelta(minutes=minutes) > now:
            return None  # the customer wrote meanwhile
        ticket.flow_state = {}
        return lifecycle.close(ticket, by=TIMER, reason="inactivity", now=now)

    return close


def _fallback(queue_id: int) -> _Timer:
    def move(ticket: Ticket, now: datetime) -> Change | None:
        if ticket.status is not TicketStatus.pending or ticket.queue_id is not None:  # type: ignore[attr-defined]
            return None
        return lifecycle.fallback(ticket, queue_id=queue_id, now=now)

    return move


class _SettingsCache:
    """Each company's settings read once per pass."""

    def __init__(self) -> None:
        self._by_company: dict[int, CompanySettings] = {}

    async def of(self, ticket: Ticket) -> CompanySettings:
        company_id: int = ticket.company_id  # type: ignore[attr-defined]
        if company_id not in self._by_company:
            self._by_company[company_id] = await get_company_settings(company_id=company_id)
        return self._by_company[company_id]
