"""Inbound, end to end: persist first, run the flow for bot tickets, apply its events,
store and send the replies, publish after commit, mark processed (DESIGN.md, lifecycle).

Persisting is idempotent on (connection, channel message id). Processing drains a
ticket's unprocessed inbound messages in id order under the ticket's row lock, so one
conversation is handled in order while different conversations run concurrently, and a
crash between the two steps is repaired by `recover()` at start-up.

Besides a customer's message, a channel reports messages sent from the business's own phone
(stored as sent agent messages), edits and revokes (applied to the message they name) and,
when the connection enables groups, group messages (a ticket per group, never the bot)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from bot.channel import InboundMessage
from flows.builtin import default_router
from flows.builtin.csat import parse_rating
from flows.builtin.hours import OUT_OF_HOURS_SLOT
from flows.engine import FlowResult, run_flow
from flows.events import (
    CLOSE_TICKET,
    HANDOFF,
    OPT_IN,
    OPT_OUT,
    RATE_TICKET,
    SET_QUEUE,
    is_event,
)
from flows.filters import Message as FlowMessage
from service.clock import Clock
from service.connections.models import Connection
from service.contacts.models import Contact
from service.contacts.phones import normalize_number
from service.flow_config import bot_config_for, conversation_for
from service.media import media_fields
from service.outbound import OutboundSender
from service.realtime.broker import Broker
from service.realtime.events import EventBatch, ticket_audience, transaction_with_events
from service.tickets.models import (
    ACTIVE_STATUSES,
    Direction,
    Message,
    MessageStatus,
    Ticket,
    TicketStatus,
)
from service.tickets.service import message_out

__all__ = ["Pipeline", "is_group_jid"]

log = logging.getLogger("atende.pipeline")

# "120363025246125244@g.us", or the older "<creator>-<timestamp>@g.us"; it is the group's
# contact number, so it must fit that column.
_GROUP_JID = re.compile(r"^[0-9]{1,20}(-[0-9]{1,20})?@g\.us$")
_MAX_CONTACT_NUMBER = 32


def is_group_jid(value: str) -> bool:
    """Whether `value` is a WhatsApp group's JID that can be kept as a contact's number."""
    return len(value) <= _MAX_CONTACT_NUMBER and _GROUP_JID.match(value) is not None


class _TicketLocks:
    """In-process order per ticket (the row lock does it across processes on Postgres)."""

    def __init__(self, size: int = 10_000) -> None:
        self._locks: OrderedDict[int, asyncio.Lock] = OrderedDict()
        self._size = size

    def __call__(self, ticket_id: int) -> asyncio.Lock:
        lock = self._locks.pop(ticket_id, None) or asyncio.Lock()
        self._locks[ticket_id] = lock
        while len(self._locks) > self._size:
            oldest, old_lock = next(iter(self._locks.items()))
            if old_lock.locked():
                break
            del self._locks[oldest]
        return lock


class Pipeline:
    def __init__(
        self, *, broker: Broker, sender: OutboundSender, clock: Clock, default_country: str
    ) -> None:
        self._broker = broker
        self._sender = sender
        self._clock = clock
        self._country = default_country
        self._locks = _TicketLocks()
        self._router = default_router()

    async def receive(self, inbound: InboundMessage) -> int | None:
        """Persist and process one inbound message; its id, or None when nothing was left to
        process (a redelivery, a dropped message, an edit, a revoke, one sent from our phone)."""
        stored = await self.persist(inbound)
        if stored is None:
            return None
        message_id, ticket_id = stored
        await self.process_ticket(ticket_id)
        return message_id

    async def recover(self) -> int:
        """Process what was stored but not processed (a crash or a restart in between)."""
        ticket_ids = await (
            Message.filter(direction=Direction.inbound, processed_at=None, is_note=False)
            .distinct()
            .values_list("ticket_id", flat=True)
        )
        for ticket_id in sorted({int(str(t)) for t in ticket_ids}):
            await self.process_ticket(ticket_id)
        return len(ticket_ids)

    async def persist(self, inbound: InboundMessage) -> tuple[int, int] | None:
        """Step 1 alone: store the message (and its contact and ticket) and return the ids to
        process; None when nothing is left to process: a redelivery, a dropped message, an
        edit or a revoke (applied here), a message sent from our phone (recorded here)."""
        if inbound.edit_of is not None or inbound.revoke_of is not None:
            await self._change(inbound)
            return None
        connection = await Connection.get_or_none(id=inbound.connection_id).only(
            "id", "company_id", "groups_enabled"
        )
        if connection is None:
            log.warning("inbound for unknown connection %s dropped", inbound.connection_id)
            return None
        company_id: int = connection.company_id  # type: ignore[attr-defined]
        number = self._chat_number(inbound, connection)
        if number is None:
            return None
        if await Message.exists(
            connection_id=connection.id, channel_message_id=inbound.channel_message_id
        ):
            return None
        if inbound.from_me:
            await self._record_own(inbound, company_id=company_id, number=number)
            return None
        body = inbound.text
        if inbound.group is not None:
            contact = await self._contact(company_id, number, inbound.group, is_group=True)
            ticket = await self._group_ticket(company_id, contact.id, connection.id)
            body = _group_body(inbound, inbound.text)
        else:
            contact = await self._contact(company_id, number, inbound.push_name)
            ticket = await self._active_ticket(company_id, contact.id, connection.id, body)
        try:
            message = await Message.create(
                company_id=company_id,
                ticket_id=ticket.id,
                connection_id=connection.id,
                direction=Direction.inbound,
                body=body,
                channel_message_id=inbound.channel_message_id,
                quoted_channel_id=inbound.quoted_id,
                status=MessageStatus.delivered,
                created_at=inbound.timestamp,
                **media_fields(inbound.media),
            )
        except IntegrityError:
            return None  # the same delivery, stored concurrently by another handler
        return message.id, ticket.id

    def _chat_number(self, inbound: InboundMessage, connection: Connection) -> str | None:
        """The contact's number: the customer's in E.164, or the group's JID; None (and the
        message dropped) for a group the connection ignores or an unusable sender."""
        extra = {"connection_id": connection.id}
        if inbound.group is not None:
            if not connection.groups_enabled:
                log.debug("group message dropped: groups are off", extra=extra)
                return None
            if not is_group_jid(inbound.group):
                log.warning("group message from an unusable group id dropped", extra=extra)
                return None
            return inbound.group
        try:
            return normalize_number(inbound.sender, self._country)
        except ValueError:
            log.warning("inbound from an unusable sender dropped", extra=extra)
            return None

    async def _record_own(self, inbound: InboundMessage, *, company_id: int, number: str) -> None:
        """A message sent from the business's phone: an agent's message, already sent, on the
        contact's active ticket, else its latest, else a new pending one; no bot involved."""
        is_group = inbound.group is not None
        # Our push name is not the customer's: a contact made here starts without a name.
        contact = await self._contact(company_id, number, "", is_group=is_group)
        ticket = await self._ticket_for_own(company_id, contact.id, inbound.connection_id)
        try:
            async with transaction_with_events(self._broker) as batch:
                message = await Message.create(
                    company_id=company_id,
                    ticket_id=ticket.id,
                    connection_id=inbound.connection_id,
                    direction=Direction.outbound,
                    body=inbound.text,
                    channel_message_id=inbound.channel_message_id,
                    quoted_channel_id=inbound.quoted_id,
                    status=MessageStatus.sent,
                    processed_at=self._clock(),
                    created_at=inbound.timestamp,
                    **media_fields(inbound.media),
                )
                ticket.last_message = _preview(message)
                ticket.last_message_at = message.created_at
                await ticket.save(update_fields=["last_message", "last_message_at", "updated_at"])
                batch.add(
                    "message.created", _message_data(message), audience=ticket_audience(ticket)
                )
        except IntegrityError:
            return  # recorded concurrently by another handler (rolled back, nothing published)

    async def _ticket_for_own(self, company_id: int, contact_id: int, connection_id: int) -> Ticket:
        """The chat's active ticket, else its latest, else a new pending one."""
        tickets = Ticket.filter(contact_id=contact_id, connection_id=connection_id)
        found = await tickets.filter(status__in=ACTIVE_STATUSES).first()
        found = found or await tickets.order_by("-id").first()
        if found is not None:
            return found
        return await self._new_pending_ticket(company_id, contact_id, connection_id)

    async def _group_ticket(self, company_id: int, contact_id: int, connection_id: int) -> Ticket:
        """The group's active ticket on the connection, else a new one waiting for an admin."""
        active = await Ticket.filter(
            contact_id=contact_id, connection_id=connection_id, status__in=ACTIVE_STATUSES
        ).first()
        if active is not None:
            return active
        return await self._new_pending_ticket(company_id, contact_id, connection_id)

    async def _new_pending_ticket(
        self, company_id: int, contact_id: int, connection_id: int
    ) -> Ticket:
        """A ticket straight in `pending` without a queue (so admins see it); never the bot's."""
        try:
            return await Ticket.create(
                company_id=company_id,
                contact_id=contact_id,
                connection_id=connection_id,
                status=TicketStatus.pending,
                handed_off_at=self._clock(),
            )
        except IntegrityError:  # another message of this chat created it just now
            return await Ticket.get(
                contact_id=contact_id, connection_id=connection_id, status__in=ACTIVE_STATUSES
            )

    async def _change(self, inbound: InboundMessage) -> None:
        """An edit (new text) or a revoke ("deleted for everyone") of a stored message. A
        revoked message keeps its text for supervisors; the API shows it as revoked."""
        target_id = inbound.edit_of or inbound.revoke_of
        extra = {"connection_id": inbound.connection_id}
        async with transaction_with_events(self._broker) as batch:
            target = (
                await Message.filter(
                    connection_id=inbound.connection_id, channel_message_id=target_id
                )
                .select_for_update()
                .first()
            )
            if target is None:
                log.info("an edit or revoke of an unknown message dropped", extra=extra)
                return
            if inbound.revoke_of is not None:
                target.revoked_at = inbound.timestamp
                await target.save(update_fields=["revoked_at"])
            else:
                target.body = _group_body(inbound, inbound.text) if inbound.group else inbound.text
                target.edited_at = inbound.timestamp
                await target.save(update_fields=["body", "edited_at"])
            batch.add(
                "message.updated",
                _message_data(target),
                audience={"company_id": target.company_id, "ticket_id": target.ticket_id},  # type: ignore[attr-defined]
            )

    async def _contact(
        self, company_id: int, number: str, name: str, *, is_group: bool = False
    ) -> Contact:
        contact = await Contact.get_or_none(company_id=company_id, number=number)
        if contact is not None:
            return contact
        try:
            return await Contact.create(
                company_id=company_id, number=number, name=name, is_group=is_group
            )
        except IntegrityError:
            return await Contact.get(company_id=company_id, number=number)

    async def _active_ticket(
        self, company_id: int, contact_id: int, connection_id: int, text: str
    ) -> Ticket:
        """The contact's active ticket on the connection; else the closed one still awaiting
        its rating, if this is a rating; else a new ticket in the bot."""
        latest = (
            await Ticket.filter(contact_id=contact_id, connection_id=connection_id)
            .order_by("-id")
            .first()
        )
        if latest is not None and latest.status in ACTIVE_STATUSES:
            return latest
        if latest is not None and latest.flow_state.get("awaiting_rating"):
            if parse_rating(FlowMessage(text)) is not None:
                return latest
            # Anything but a rating is a new conversation: the question lapses.
            latest.flow_state = {**latest.flow_state, "awaiting_rating": False}
            await latest.save(update_fields=["flow_state"])
        flow_state: dict[str, Any] = {}
        if latest is not None and latest.user_id is None and OUT_OF_HOURS_SLOT in latest.flow_state:  # type: ignore[attr-defined]
            # Closed by the bot out of hours: the customer was told once for this closed window.
            flow_state[OUT_OF_HOURS_SLOT] = latest.flow_state[OUT_OF_HOURS_SLOT]
        try:
            return await Ticket.create(
                company_id=company_id,
                contact_id=contact_id,
                connection_id=connection_id,
                status=TicketStatus.bot,
                flow_state=flow_state,
            )
        except IntegrityError:  # another message of this contact created it just now
            return await Ticket.get(
                contact_id=contact_id, connection_id=connection_id, status__in=ACTIVE_STATUSES
            )

    async def process_ticket(self, ticket_id: int) -> None:
        """Run every unprocessed inbound message of the ticket, oldest first."""
        async with self._locks(ticket_id):
            async with transaction_with_events(self._broker) as batch:
                ticket = await Ticket.filter(id=ticket_id).select_for_update().first()
                if ticket is None:
                    return
                inbound = await Message.filter(
                    ticket_id=ticket_id, direction=Direction.inbound, processed_at=None
                ).order_by("id")
                if not inbound:
                    return
                contact = await Contact.get(id=ticket.contact_id)  # type: ignore[attr-defined]
                replies: list[int] = []
                for message in inbound:
                    replies += await self._process_one(ticket, contact, message, batch)
                await ticket.save()
            await self._sender.send(replies)

    async def _process_one(
        self, ticket: Ticket, contact: Contact, message: Message, batch: EventBatch
    ) -> list[int]:
        now = self._clock()
        audience = ticket_audience(ticket)
        ticket.unread_count += 1
        ticket.last_message = _preview(message)
        ticket.last_message_at = message.created_at
        batch.add("message.created", _message_data(message), audience=audience)
        reply_ids: list[int] = []
        # Closed tickets only hear a rating; opt-out/in works in every other status (the
        # routers of the bot's own steps filter on the `bot` status themselves). The bot
        # never talks in a group.
        if not contact.is_group and (
            ticket.status is not TicketStatus.closed or ticket.flow_state.get("awaiting_rating")
        ):
            config = await bot_config_for(connection_id=ticket.connection_id)  # type: ignore[attr-defined]
            conversation = await conversation_for(ticket, contact=contact, now=now)
            result = await run_flow(
                text=message.body,
                state=dict(ticket.flow_state),
                config=config,
                conversation=conversation,
                router=self._router,
            )
            await _apply(ticket, contact, result, now=now)
            for text in result.messages:
                reply = await Message.create(
                    company_id=ticket.company_id,  # type: ignore[attr-defined]
                    ticket_id=ticket.id,
                    connection_id=ticket.connection_id,  # type: ignore[attr-defined]
                    direction=Direction.outbound,
                    body=text,
                    from_bot=True,
                    status=MessageStatus.pending,
                    processed_at=now,
                )
                reply_ids.append(reply.id)
                batch.add("message.created", _message_data(reply), audience=audience)
            if result.events:
                batch.add("ticket.updated", _ticket_data(ticket), audience=ticket_audience(ticket))
        message.processed_at = now
        await message.save(update_fields=["processed_at"])
        return reply_ids


async def _apply(ticket: Ticket, contact: Contact, result: FlowResult, *, now: datetime) -> None:
    """What the flow asked for, done to the ticket (saved by the caller) and the contact."""
    ticket.flow_state = result.state
    for event in result.events:
        if is_event(event, HANDOFF):
            ticket.status = TicketStatus.pending
            ticket.queue_id = event["queue_id"]
            ticket.handed_off_at = now
        elif is_event(event, SET_QUEUE):
            ticket.queue_id = event["queue_id"]
        elif is_event(event, CLOSE_TICKET):
            ticket.status = TicketStatus.closed
            ticket.closed_at = now
        elif is_event(event, RATE_TICKET):
            ticket.rating = event["rating"]
        elif is_event(event, OPT_OUT) or is_event(event, OPT_IN):
            contact.opted_out = is_event(event, OPT_OUT)
            contact.opted_out_at = now if contact.opted_out else None
            await contact.save(update_fields=["opted_out", "opted_out_at", "updated_at"])


def _message_data(message: Message) -> dict[str, Any]:
    return message_out(message).model_dump(mode="json")


def _preview(message: Message) -> str:
    """What the inbox shows as a ticket's last message: its text, else what kind of file."""
    return message.body[:500] or (f"[{message.media_type}]" if message.media_type else "")


def _group_body(inbound: InboundMessage, text: str) -> str:
    """A group message as agents read it: who wrote it, then what they wrote."""
    return f"{inbound.push_name or inbound.sender}: {text}"


def _ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "status": ticket.status,
        "queue_id": ticket.queue_id,  # type: ignore[attr-defined]
        "user_id": ticket.user_id,  # type: ignore[attr-defined]
        "unread_count": ticket.unread_count,
    }
