"""Persist: store the message on its chat's ticket (opening what is missing) before anything
else happens to it, so that nothing a customer wrote is lost to a crash in what follows.

A customer's message is looked up in one statement (the connection with the stamp of its
cached bot, the contact, its latest ticket), which on Postgres also stores the message when
that ticket is active: a conversation going on costs no more. A new customer's contact,
ticket and message are made in one more. Otherwise the message goes the long way: the
contact made if new, then the active ticket, else the closed one whose rating question it
answers, else a new ticket in the bot; then the message. Group messages go on the group's
ticket, which waits for an admin and never meets the bot."""

from __future__ import annotations

import logging
from typing import Any

from bot.channel import InboundMessage
from flows.builtin.csat import answers_question
from flows.builtin.hours import OUT_OF_HOURS_SLOT
from service.campaigns.actions import ANSWER_WINDOW
from service.clock import Clock
from service.contacts.models import Contact
from service.flow_config import ConnectionInfo
from service.inbound.arrival import (
    Redelivery,
    chat_number,
    group_body,
    group_name,
    inbound_row,
    sender_number,
)
from service.inbound.changes import PhoneSide
from service.inbound.opening import Opening, contact_row
from service.inbound.store import InboundStore, Stored
from service.realtime.broker import Broker
from service.realtime.events import transaction_with_events
from service.tickets import lifecycle
from service.tickets.history import record
from service.tickets.lifecycle import CUSTOMER
from service.tickets.models import ACTIVE_STATUSES, Ticket, TicketStatus

__all__ = ["Persist"]

log = logging.getLogger("atende.pipeline")


class Persist:
    def __init__(
        self, *, broker: Broker, clock: Clock, default_country: str, opening: Opening
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._country = default_country
        self._opening = opening
        self._phone = PhoneSide(broker=broker, clock=clock, opening=opening)

    async def __call__(self, store: InboundStore, inbound: InboundMessage) -> Stored | None:
        """The stored message, for processing; None when nothing is left to process: a
        redelivery, a dropped message, an edit or a revoke (applied here), a message sent
        from our phone (recorded here)."""
        if inbound.edit_of is not None or inbound.revoke_of is not None:
            await self._phone.change(inbound)
            return None
        if inbound.group is None and not inbound.from_me:
            return await self._customer(store, inbound)
        connection = await store.connection(inbound.connection_id)
        if connection is None:
            log.warning("inbound for unknown connection %s dropped", inbound.connection_id)
            return None
        number = chat_number(
            inbound, groups_enabled=connection.groups_enabled, default_country=self._country
        )
        if number is None:
            return None
        if inbound.from_me:
            if not await store.is_stored(inbound.connection_id, inbound.channel_message_id):
                await self._phone.record_own(store, inbound, connection.company_id, number)
            return None
        return await self._group(store, inbound, connection, number)

    async def _customer(self, store: InboundStore, inbound: InboundMessage) -> Stored | None:
        number = sender_number(inbound, self._country)
        if number is None:
            return None
        found = await store.customer(
            connection_id=inbound.connection_id,
            number=number,
            since=self._clock() - ANSWER_WINDOW,
            message=inbound_row(inbound, inbound.text),
        )
        if found is None:
            log.warning("inbound for unknown connection %s dropped", inbound.connection_id)
            return None
        if found.stored is not None:
            return found.stored  # the common case: stored on the conversation going on
        if found.tried:
            return None  # a redelivery, or the same delivery stored concurrently
        connection = found.connection
        company_id = connection.company_id
        redelivered = Redelivery(store, inbound)
        contact = found.contact
        if contact is None:
            first = await store.first_message(
                connection=connection,
                contact=contact_row(company_id, number, inbound.push_name, is_group=False),
                ticket=_bot_ticket(company_id, inbound.connection_id, {}),
                message={"company_id": company_id, **inbound_row(inbound, inbound.text)},
            )
            if first is not None and first.ticket is not None:
                await self._opening.announce(first.ticket, first.contact)
                return first
            contact = await self._opening.new_contact(
                store, company_id, number, inbound.push_name, is_group=False
            )
            redelivered.forget()  # a new contact has no messages
        ticket = await self._ticket(store, contact, inbound, redelivered, found.latest)
        return await self._store(store, inbound, inbound.text, ticket, contact, connection)

    async def _group(
        self,
        store: InboundStore,
        inbound: InboundMessage,
        connection: ConnectionInfo,
        number: str,
    ) -> Stored | None:
        """On the group's active ticket on the connection, else a new one waiting for an
        admin."""
        company_id = connection.company_id
        redelivered = Redelivery(store, inbound)
        contact = await store.contact(company_id, number)
        if contact is None:
            contact = await self._opening.new_contact(
                store, company_id, number, group_name(inbound), is_group=True
            )
            redelivered.forget()
        else:
            contact = await self._opening.group_named(contact, inbound.group_subject)
        ticket = await store.active_ticket(contact.id, connection.id)
        if ticket is None and not await redelivered():
            ticket = await self._opening.pending_ticket(
                store, company_id, contact.id, connection.id
            )
        body = group_body(inbound, inbound.text)
        return await self._store(store, inbound, body, ticket, contact, connection)

    async def _store(
        self,
        store: InboundStore,
        inbound: InboundMessage,
        body: str,
        ticket: Ticket | None,
        contact: Contact,
        connection: ConnectionInfo,
    ) -> Stored | None:
        if ticket is None:
            return None  # a redelivery, found before it could open anything
        row = {"company_id": connection.company_id, "ticket_id": ticket.id}
        message_id = await store.add_message({**row, **inbound_row(inbound, body)})
        if message_id is None:
            return None  # a redelivery, or the same delivery stored concurrently
        return Stored(message_id, ticket.id, contact, connection)

    async def _ticket(
        self,
        store: InboundStore,
        contact: Contact,
        inbound: InboundMessage,
        redelivered: Redelivery,
        latest: Ticket | None,
    ) -> Ticket | None:
        """The contact's active ticket on the connection; else the closed one still awaiting
        its rating, if this answers it (a rating, or a first invalid answer, which the CSAT
        flow asks again once); else a new ticket in the bot (None for a redelivery, which
        must neither lapse a question nor open a ticket). `latest` is the contact's latest
        ticket on the connection, as read with the contact."""
        if latest is not None and latest.status in ACTIVE_STATUSES:
            return latest
        if await redelivered():
            return None
        if latest is not None and lifecycle.awaiting_rating(latest):
            if answers_question(latest.flow_state, inbound.text):
                return latest
            # Asked again already: this is a new conversation, and the question lapses.
            await self._expire_rating(latest)
        flow_state: dict[str, Any] = {}
        if latest is not None and latest.user_id is None and OUT_OF_HOURS_SLOT in latest.flow_state:  # type: ignore[attr-defined]
            # Closed by the bot out of hours: the customer was told once for this closed window.
            flow_state[OUT_OF_HOURS_SLOT] = latest.flow_state[OUT_OF_HOURS_SLOT]
        company_id: int = contact.company_id  # type: ignore[attr-defined]
        values = _bot_ticket(company_id, inbound.connection_id, flow_state)
        return await self._opening.ticket(store, contact_id=contact.id, **values)

    async def _expire_rating(self, ticket: Ticket) -> None:
        async with transaction_with_events(self._broker) as batch:
            change = lifecycle.expire_rating(ticket, by=CUSTOMER, now=self._clock())
            if change is not None:
                await ticket.save(update_fields=["flow_state", "updated_at"])
                await record([change], batch)


def _bot_ticket(company_id: int, connection_id: int, flow_state: dict[str, Any]) -> dict[str, Any]:
    """A new conversation's ticket, in the bot."""
    return {
        "company_id": company_id,
        "connection_id": connection_id,
        "status": TicketStatus.bot,
        "flow_state": flow_state,
    }
