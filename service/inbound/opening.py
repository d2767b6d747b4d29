"""What a chat's message opens when there is nothing to put it on: the one way the inbound
path makes a contact and a ticket, and announces the ticket (`ticket.created`).

A contact is unique per company and number, and a contact has one active ticket per
connection: two messages of a new chat racing each other both try, one insert wins, and the
other reads what it made."""

from __future__ import annotations

import logging
from typing import Any

from service.clock import Clock
from service.contacts.actions import follow_group_subject
from service.contacts.models import Contact
from service.contacts.phones import language_of_number
from service.events import TICKET_CREATED
from service.inbound.store import InboundStore
from service.realtime.broker import Broker
from service.tickets.audience import ticket_audience
from service.tickets.models import Ticket, TicketStatus
from service.tickets.service import ticket_out

__all__ = ["Opening", "contact_row"]

log = logging.getLogger("atende.pipeline")


def contact_row(company_id: int, number: str, name: str, *, is_group: bool) -> dict[str, Any]:
    """A new contact: a person's language guessed from their number's country."""
    return {
        "company_id": company_id,
        "number": number,
        "name": name,
        "is_group": is_group,
        "language": None if is_group else language_of_number(number),
    }


class Opening:
    def __init__(self, *, broker: Broker, clock: Clock) -> None:
        self._broker = broker
        self._clock = clock

    async def contact(
        self, store: InboundStore, company_id: int, number: str, name: str, *, is_group: bool
    ) -> Contact:
        """The contact with this number, made if new."""
        found = await store.contact(company_id, number)
        if found is not None:
            return found
        return await self.new_contact(store, company_id, number, name, is_group=is_group)

    async def new_contact(
        self, store: InboundStore, company_id: int, number: str, name: str, *, is_group: bool
    ) -> Contact:
        """A contact not found a moment ago, made now (or the one made meanwhile)."""
        made = await store.add_contact(contact_row(company_id, number, name, is_group=is_group))
        if made is not None:
            return made
        found = await store.contact(company_id, number)
        assert found is not None, "a contact that conflicts exists"
        return found

    async def ticket(self, store: InboundStore, **values: Any) -> Ticket:
        """A new active ticket of the contact, announced; or the one another message of the
        chat created just now."""
        made = await store.add_ticket(values)
        if made is not None:
            await self.announce(made)
            return made
        found = await store.active_ticket(values["contact_id"], values["connection_id"])
        assert found is not None, "an active ticket that conflicts exists"
        return found

    async def pending_ticket(
        self, store: InboundStore, company_id: int, contact_id: int, connection_id: int
    ) -> Ticket:
        """A ticket straight in `pending` without a queue (so admins see it); never the bot's."""
        return await self.ticket(
            store,
            company_id=company_id,
            contact_id=contact_id,
            connection_id=connection_id,
            status=TicketStatus.pending,
            handed_off_at=self._clock(),
        )

    async def announce(self, ticket: Ticket, contact: Contact | None = None) -> None:
        """`ticket.created`, the ticket as the API shows it; its row is committed already."""
        try:
            data = await ticket_out(ticket, contact=contact)
            await self._broker.publish(TICKET_CREATED.event(data, audience=ticket_audience(ticket)))
        except Exception:
            # The ticket exists; a lost notification is caught up by re-fetching.
            log.exception("could not publish ticket.created")

    async def group_named(self, contact: Contact, subject: str | None) -> Contact:
        """The group's contact, renamed to the subject the channel has just learnt unless a
        person named it (service.contacts.actions). Only a group's first message since its
        channel connected brings a subject: the others cost nothing here."""
        if not subject or contact.name == subject:
            return contact
        renamed = await follow_group_subject(
            company_id=contact.company_id,  # type: ignore[attr-defined]
            group=contact.number,
            subject=subject,
            broker=self._broker,
        )
        return renamed or contact
