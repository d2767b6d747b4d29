"""Tickets and messages written straight to the database with the moments a report test
needs (the pipeline would stamp them with the clock)."""

from __future__ import annotations

import itertools
from datetime import datetime

from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.users.models import User
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
