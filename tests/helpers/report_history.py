"""Tickets and messages written straight to the database with the moments a report test
needs (the pipeline would stamp them with the clock)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import (
    ActorKind,
    Direction,
    HistoryKind,
    Message,
    MessageStatus,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from service.users.models import Role, User
from tests.factories import Tenant, unique

_numbers = itertools.count(1)


class History:
    """Tickets and messages written straight to the database with the moments a test needs."""

    def __init__(self, tenant: Tenant, connection: Connection) -> None:
        self.tenant = tenant
        self.connection = connection

    @classmethod
    async def of(cls, tenant: Tenant) -> History:
        connection = await Connection.create(company=tenant.company, name=unique("conn"))
        return cls(tenant, connection)

    async def ticket(
        self,
        *,
        created: datetime,
        status: TicketStatus,
        queue: Queue | None = None,
        user: User | None = None,
        handed_off: datetime | None = None,
        accepted: datetime | None = None,
        closed: datetime | None = None,
        rating: int | None = None,
    ) -> Ticket:
        contact = await Contact.create(
            company=self.tenant.company, number=f"+55319{next(_numbers):08d}", name="Cliente"
        )
        ticket = await Ticket.create(
            company=self.tenant.company,
            contact=contact,
            connection=self.connection,
            queue=queue,
            user=user,
            status=status,
            created_at=created,
            handed_off_at=handed_off,
            accepted_at=accepted,
            closed_at=closed,
            rating=rating,
        )
        await self.message(ticket, created, direction=Direction.inbound)
        return ticket

    async def message(
        self,
        ticket: Ticket,
        when: datetime,
        *,
        by: User | None = None,
        direction: Direction = Direction.outbound,
        from_bot: bool = False,
        is_note: bool = False,
    ) -> None:
        await Message.create(
            company=self.tenant.company,
            ticket=ticket,
            connection=self.connection,
            direction=direction,
            body="…",
            status=MessageStatus.sent,
            sender_user=by,
            from_bot=from_bot,
            is_note=is_note,
            created_at=when,
        )


# The period of tests/service/reports/test_reports_period.py (and the admin's reports page) --

# Queue A's hours: weekdays 09:00-18:00 UTC.
WEEKDAYS_9_TO_18 = {
    "timezone": "UTC",
    "days": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-03-`day` hour:minute UTC (the 10th is a Tuesday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Built:
    a: Queue
    b: Queue
    ana: User
    bia: User


async def build(tenant: Tenant) -> Built:
    """The history the expected figures of test_reports_period.py are worked out from (all
    times UTC)."""
    company = tenant.company
    history = await History.of(tenant)
    a = await Queue.create(company=company, name="Alpha", business_hours=WEEKDAYS_9_TO_18)
    b = await Queue.create(company=company, name="Beta", position=1)
    ana = (await tenant.member(Role.agent)).user
    bia = (await tenant.member(Role.agent)).user
    bia.name = "=Bia"  # a formula, for the CSV
    await bia.save()
    closed, open_, pending = TicketStatus.closed, TicketStatus.open, TicketStatus.pending

    # T1 (A): handed off 08:10, accepted 08:20, answered 08:40 (1800 s; 0 in A's hours,
    # which open at 09:00); the bot's message and a note before do not count. Closed, a 5.
    t1 = await history.ticket(
        created=at(10, 8),
        status=closed,
        queue=a,
        user=ana,
        handed_off=at(10, 8, 10),
        accepted=at(10, 8, 20),
        closed=at(10, 10),
        rating=5,
    )
    await history.message(t1, at(10, 8, 1), from_bot=True)
    await history.message(t1, at(10, 8, 15), by=ana, is_note=True)
    await history.message(t1, at(10, 8, 40), by=ana)
    await history.message(t1, at(10, 9), by=ana)
    # T2 (A): waited 1800 s, answered after 3600 s by Bia, closed the next day with a 4.
    t2 = await history.ticket(
        created=at(10, 12),
        status=closed,
        queue=a,
        user=bia,
        handed_off=at(10, 12),
        accepted=at(10, 12, 30),
        closed=at(11, 12),
        rating=4,
    )
    await history.message(t2, at(10, 13), by=bia)
    # T3 (B): created, handed off and accepted the day before; answered in the period
    # (9000 s after the handoff), closed at 02:00 with a 1.
    t3 = await history.ticket(
        created=at(9, 22),
        status=closed,
        queue=b,
        user=bia,
        handed_off=at(9, 22, 30),
        accepted=at(9, 23),
        closed=at(10, 2),
        rating=1,
    )
    await history.message(t3, at(10, 1), by=bia)
    # T4: the bot solved it alone.
    t4 = await history.ticket(created=at(10, 9), status=closed, closed=at(10, 9, 5))
    await history.message(t4, at(10, 9, 1), from_bot=True)
    # T5 (B): waiting since 15:00 on the 11th.
    await history.ticket(created=at(11, 15), status=pending, queue=b, handed_off=at(11, 15))
    # T6 (A): handed off in the period, accepted and answered after it.
    t6 = await history.ticket(
        created=at(11, 20),
        status=open_,
        queue=a,
        user=ana,
        handed_off=at(11, 20, 30),
        accepted=at(12, 8),
    )
    await history.message(t6, at(12, 8, 30), by=ana)
    # T7 (B): waited 360 s, answered after 600 s, closed the next day without a rating.
    t7 = await history.ticket(
        created=at(10, 10),
        status=closed,
        queue=b,
        user=ana,
        handed_off=at(10, 10),
        accepted=at(10, 10, 6),
        closed=at(11, 11),
    )
    await history.message(t7, at(10, 10, 10), by=ana)
    # T8: after the period.
    await history.ticket(created=at(12, 10), status=TicketStatus.bot)
    return Built(a=a, b=b, ana=ana, bia=bia)


async def line(
    ticket: Ticket,
    kind: HistoryKind,
    when: datetime,
    *,
    actor: ActorKind = ActorKind.user,
    **columns: Any,
) -> None:
    """One line of the ticket's history, as service.tickets.lifecycle would have written it."""
    await TicketEvent.create(
        company_id=ticket.company_id,  # type: ignore[attr-defined]
        ticket=ticket,
        kind=kind,
        actor_kind=actor,
        at=when,
        **columns,
    )
