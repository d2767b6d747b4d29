"""Reads of tickets and messages, and who may see which ticket."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from service.auth.tokens import Principal
from service.campaigns.models import Campaign
from service.companies.service import get_company_settings
from service.contacts.models import Contact
from service.errors import Conflict, NotFound
from service.http import Page, PageQuery, paginate
from service.queues.models import Queue
from service.tenancy import id_in_range, scoped
from service.tickets.models import Message, Ticket, TicketStatus
from service.tickets.schemas import (
    CampaignRef,
    ContactRef,
    MediaOut,
    MessageOut,
    TicketOut,
    TicketQuery,
)

__all__ = [
    "agent_queue_ids",
    "get_visible_ticket",
    "get_writable_ticket",
    "media_url",
    "message_out",
    "messages_out",
    "messages_page",
    "sees_unqueued",
    "ticket_out",
    "tickets_out",
    "tickets_page",
    "visible_tickets",
]

_NOT_DIGITS = re.compile(r"\D+")


async def sees_unqueued(principal: Principal) -> bool:
    """Whether the agent sees the pending tickets without a queue: they belong to the
    company's fallback queue, where such tickets are headed (the bot hands off there, and
    service.scheduler moves the older ones there)."""
    if principal.user_id is None:
        return False
    settings = await get_company_settings(company_id=principal.company_id)
    if settings.fallback_queue_id is None:
        return False
    return await (
        scoped(Queue, principal.company_id)
        .filter(id=settings.fallback_queue_id, users__id=principal.user_id)
        .exists()
    )


async def agent_queue_ids(principal: Principal) -> frozenset[int | None]:
    """The queues whose pending tickets the agent sees, None among them for the tickets
    without a queue (see `sees_unqueued`); the realtime hub judges events by it."""
    if principal.sees_all_tickets or principal.user_id is None:
        return frozenset()
    ids = await (
        scoped(Queue, principal.company_id)
        .filter(users__id=principal.user_id)
        .values_list("id", flat=True)
    )
    queue_ids: set[int | None] = {int(str(i)) for i in ids}
    if await sees_unqueued(principal):
        queue_ids.add(None)
    return frozenset(queue_ids)


async def visible_tickets(*, principal: Principal) -> QuerySet[Ticket]:
    """The tickets the caller may see: admins and supervisors (and API tokens) all of their
    company; an agent the pending tickets of their queues and the tickets assigned to them
    (open, or closed ones they handled). A pending ticket without a queue is seen by the
    agents of the company's fallback queue; otherwise a ticket without a queue reaches an
    agent only by being assigned to them."""
    query = scoped(Ticket, principal.company_id)
    if principal.sees_all_tickets:
        return query
    if principal.user_id is None:
        return query.filter(id=0)
    my_queues = Subquery(
        scoped(Queue, principal.company_id).filter(users__id=principal.user_id).values("id")
    )
    seen = Q(user_id=principal.user_id) | Q(status=TicketStatus.pending, queue_id__in=my_queues)
    if await sees_unqueued(principal):
        seen |= Q(status=TicketStatus.pending, queue_id__isnull=True)
    return query.filter(seen)


async def get_visible_ticket(*, principal: Principal, ticket_id: int, lock: bool = False) -> Ticket:
    """The ticket with this id if the caller may see it; a 404 otherwise (also for another
    company's ticket), so that ids reveal nothing."""
    if not id_in_range(Ticket, ticket_id):
        raise NotFound(f"Ticket {ticket_id} not found")
    query = (await visible_tickets(principal=principal)).filter(id=ticket_id)
    if lock:
        query = query.select_for_update()
    ticket = await query.first()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found")
    return ticket


async def get_writable_ticket(
    *, principal: Principal, ticket_id: int, lock: bool = False
) -> Ticket:
    """The ticket if the caller may write to its contact now: an agent on their own open
    ticket, admins and supervisors on any active one; 404 as for reading, 409 otherwise."""
    ticket = await get_visible_ticket(principal=principal, ticket_id=ticket_id, lock=lock)
    if ticket.status == TicketStatus.closed:
        raise Conflict("The ticket is closed: reopen it first")
    mine = ticket.status == TicketStatus.open and ticket.user_id == principal.user_id  # type: ignore[attr-defined]
    if not (mine or principal.sees_all_tickets):
        raise Conflict("Accept the ticket before writing to the contact")
    return ticket


async def tickets_page(*, principal: Principal, args: TicketQuery) -> Page:
    """One page of the tickets the caller sees, newest first, filtered as asked."""
    query = await visible_tickets(principal=principal)
    if args.status is not None:
        query = query.filter(status=args.status)
    if args.queue_id is not None:
        query = query.filter(queue_id=args.queue_id)
    if args.contact_id is not None:
        query = query.filter(contact_id=args.contact_id)
    if args.assigned == "me":
        query = query.filter(user_id=principal.user_id) if principal.user_id else query.filter(id=0)
    if args.q:
        condition = Q(contact__name__icontains=args.q)
        digits = _NOT_DIGITS.sub("", args.q)
        if digits:
            condition |= Q(contact__number__contains=digits)
        query = query.filter(condition)
    return await paginate(query, args, tickets_out, newest_first=True)


async def tickets_out(rows: Sequence[Ticket]) -> list[TicketOut]:
    """Tickets as the API shows them, their contacts fetched in one query."""
    if not rows:
        return []
    tickets = list(rows)
    await Ticket.fetch_for_list(tickets, "contact")
    campaigns = await _campaign_refs({t.campaign_id for t in tickets} - {None})  # type: ignore[attr-defined]
    return [_ticket_out(t, t.contact, campaigns.get(t.campaign_id)) for t in tickets]  # type: ignore[attr-defined]


def _ticket_out(t: Ticket, contact: Contact, campaign: CampaignRef | None) -> TicketOut:
    return TicketOut(
        id=t.id,
        status=t.status,
        queue_id=t.queue_id,  # type: ignore[attr-defined]
        user_id=t.user_id,  # type: ignore[attr-defined]
        contact=ContactRef(id=contact.id, name=contact.name, number=contact.number),
        campaign=campaign,
        connection_id=t.connection_id,  # type: ignore[attr-defined]
        unread_count=t.unread_count,
        rating=t.rating,
        last_message=t.last_message,
        last_message_at=t.last_message_at,
        created_at=t.created_at,
        updated_at=t.updated_at,
        handed_off_at=t.handed_off_at,
        accepted_at=t.accepted_at,
        first_agent_reply_at=t.first_agent_reply_at,
        closed_at=t.closed_at,
    )


async def _campaign_refs(ids: set[int]) -> dict[int, CampaignRef]:
    """The campaigns some tickets answer (a query only when there are any)."""
    if not ids:
        return {}
    rows = await Campaign.filter(id__in=sorted(ids)).values_list("id", "name")
    return {int(str(id_)): CampaignRef(id=int(str(id_)), name=str(name)) for id_, name in rows}


async def ticket_out(ticket: Ticket, *, contact: Contact | None = None) -> TicketOut:
    """One ticket as the API shows it; given its contact (a ticket just opened, answering no
    campaign yet: the inbound hot path), without a query."""
    if contact is not None and contact.id == ticket.contact_id and ticket.campaign_id is None:  # type: ignore[attr-defined]
        return _ticket_out(ticket, contact, None)
    return (await tickets_out([ticket]))[0]


async def messages_page(*, company_id: int, ticket_id: int, page: PageQuery) -> Page:
    """One page of a ticket's messages and notes, newest first."""
    query = scoped(Message, company_id).filter(ticket_id=ticket_id)
    return await paginate(query, page, messages_out, newest_first=True)


def media_url(message_id: int) -> str:
    """Where a message's stored file is downloaded."""
    return f"/api/messages/{message_id}/media"


def message_out(m: Message) -> MessageOut:
    """A message as the API (and its realtime events) show it."""
    media = None
    if m.media_type:
        media = MediaOut(
            type=m.media_type,
            name=m.media_name,
            mime=m.media_mime,
            size=m.media_size,
            url=media_url(m.id) if m.media_path else None,
        )
    return MessageOut(
        id=m.id,
        ticket_id=m.ticket_id,  # type: ignore[attr-defined]
        direction=m.direction,
        body=m.body,
        status=m.status,
        is_note=m.is_note,
        from_bot=m.from_bot,
        sender_user_id=m.sender_user_id,  # type: ignore[attr-defined]
        media_type=m.media_type,
        media_name=m.media_name,
        media=media,
        channel_message_id=m.channel_message_id,
        quoted_channel_id=m.quoted_channel_id,
        error=m.error,
        created_at=m.created_at,
        edited_at=m.edited_at,
        revoked_at=m.revoked_at,
    )


async def messages_out(rows: Sequence[Message]) -> list[MessageOut]:
    """Messages as the API shows them."""
    return [message_out(m) for m in rows]
