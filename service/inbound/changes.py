"""What a channel reports besides a customer's new message: a message sent from the business's
own phone (stored as a sent agent message; no bot involved), and an edit or a revoke of a
stored message (applied to it). Neither is processed further, and neither is hot: the ORM
writes them, in a unit of work that publishes after its commit."""

from __future__ import annotations

import logging

from tortoise.exceptions import IntegrityError

from bot.channel import InboundMessage
from service.clock import Clock
from service.events import MESSAGE_CREATED, message_updated
from service.inbound.arrival import group_body, group_name, preview
from service.inbound.opening import Opening
from service.inbound.store import InboundStore
from service.media import media_fields
from service.realtime.broker import Broker
from service.realtime.events import transaction_with_events
from service.tickets.audience import ticket_audience
from service.tickets.models import Direction, Message, MessageStatus, Ticket
from service.tickets.service import message_out

__all__ = ["PhoneSide"]

log = logging.getLogger("atende.pipeline")


class PhoneSide:
    def __init__(self, *, broker: Broker, clock: Clock, opening: Opening) -> None:
        self._broker = broker
        self._clock = clock
        self._opening = opening

    async def record_own(
        self, store: InboundStore, inbound: InboundMessage, company_id: int, number: str
    ) -> None:
        """A message sent from the business's phone: an agent's message, already sent, on the
        contact's active ticket, else its latest, else a new pending one."""
        is_group = inbound.group is not None
        # Our push name is not the customer's: a contact made here starts without a name (a
        # group's with the group's).
        name = group_name(inbound) if is_group else ""
        contact = await self._opening.contact(store, company_id, number, name, is_group=is_group)
        if is_group:
            contact = await self._opening.group_named(contact, inbound.group_subject)
        ticket = await store.active_ticket(contact.id, inbound.connection_id)
        ticket = (
            ticket
            or await Ticket.filter(contact_id=contact.id, connection_id=inbound.connection_id)
            .order_by("-id")
            .first()
        )
        if ticket is None:
            ticket = await self._opening.pending_ticket(
                store, company_id, contact.id, inbound.connection_id
            )
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
                ticket.last_message = preview(message)
                ticket.last_message_at = message.created_at
                await ticket.save(update_fields=["last_message", "last_message_at", "updated_at"])
                MESSAGE_CREATED.add(batch, message_out(message), audience=ticket_audience(ticket))
        except IntegrityError:
            return  # recorded concurrently by another handler (rolled back, nothing published)

    async def change(self, inbound: InboundMessage) -> None:
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
                target.body = group_body(inbound, inbound.text) if inbound.group else inbound.text
                target.edited_at = inbound.timestamp
                await target.save(update_fields=["body", "edited_at"])
            event = message_updated(target)
            batch.add(event["type"], event["data"], audience=event["audience"])
