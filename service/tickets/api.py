"""/api/tickets: the inbox. Everyone works on the tickets they may see; see
service.tickets.service.visible_tickets for who sees what (a ticket one may not see is a 404)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import PageQuery, parse_body, parse_query, respond
from service.openapi import documented
from service.realtime.events import ticket_audience
from service.tickets import actions
from service.tickets.models import Message, Ticket
from service.tickets.schemas import (
    MessageCreate,
    MessageOut,
    TicketOut,
    TicketQuery,
    TransferBody,
)
from service.tickets.service import (
    get_visible_ticket,
    messages_out,
    messages_page,
    ticket_out,
    tickets_page,
)

bp = Blueprint("tickets", url_prefix="/api/tickets")


async def _committed(
    request: Request,
    ticket_id: int,
    *,
    ticket: Ticket | None = None,
    message_created: Message | None = None,
) -> None:
    """After an action committed: send what it left pending, tell the agents who may see it."""
    channels = request.app.ctx.channels
    await channels.sender.send_pending_of(ticket_id)
    if ticket is None:
        ticket = await Ticket.get(id=ticket_id)
    audience = ticket_audience(ticket)
    if message_created is not None:
        data = (await messages_out([message_created]))[0].model_dump(mode="json")
        await channels.broker.publish(
            {"type": "message.created", "data": data, "audience": audience}
        )
    else:
        data = (await ticket_out(ticket)).model_dump(mode="json")
        await channels.broker.publish(
            {"type": "ticket.updated", "data": data, "audience": audience}
        )


@bp.get("/")
@documented(query=TicketQuery, page_of=TicketOut)
@requires()
async def list_tickets(request: Request, principal: Principal) -> HTTPResponse:
    """The tickets the caller sees, newest first; filter by status, queue, `assigned=me`, and
    `q` (the contact's name or number)."""
    args = parse_query(request, TicketQuery)
    return respond(await tickets_page(principal=principal, args=args))


@bp.get("/<ticket_id:int>")
@documented(response=TicketOut)
@requires()
async def read_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """One ticket the caller sees."""
    ticket = await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/accept")
@documented(response=TicketOut)
@requires()
async def accept_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Take a pending ticket of one's queue: it becomes open and the caller's (409 when someone
    else took it first)."""
    ticket = await actions.accept_ticket(
        actor=principal, ticket_id=ticket_id, now=request.app.ctx.clock()
    )
    await _committed(request, ticket.id, ticket=ticket)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/transfer")
@documented(body=TransferBody, response=TicketOut)
@requires()
async def transfer_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """To a queue (pending there), to an agent of the ticket's queue (open, theirs), or both."""
    await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    body = parse_body(request, TransferBody)
    ticket = await actions.transfer_ticket(
        actor=principal,
        ticket_id=ticket_id,
        queue_id=body.queue_id,
        user_id=body.user_id,
        now=request.app.ctx.clock(),
    )
    await _committed(request, ticket.id, ticket=ticket)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/close")
@documented(response=TicketOut)
@requires()
async def close_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Close an active ticket."""
    ticket = await actions.close_ticket(
        actor=principal, ticket_id=ticket_id, now=request.app.ctx.clock()
    )
    await _committed(request, ticket.id, ticket=ticket)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/reopen")
@documented(response=TicketOut)
@requires()
async def reopen_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Reopen a closed ticket as the caller's (409 when the contact has another active one)."""
    ticket = await actions.reopen_ticket(
        actor=principal, ticket_id=ticket_id, now=request.app.ctx.clock()
    )
    await _committed(request, ticket.id, ticket=ticket)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/read")
@documented(response=TicketOut)
@requires()
async def read_messages(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """The caller has read the ticket: its unread count goes back to 0."""
    ticket = await actions.mark_read(actor=principal, ticket_id=ticket_id)
    await _committed(request, ticket.id, ticket=ticket)
    return respond(await ticket_out(ticket))


@bp.get("/<ticket_id:int>/messages")
@documented(query=PageQuery, page_of=MessageOut)
@requires()
async def list_messages(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """The ticket's messages and internal notes (`is_note`), newest first."""
    ticket = await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    page = parse_query(request, PageQuery)
    return respond(
        await messages_page(company_id=principal.company_id, ticket_id=ticket.id, page=page)
    )


@bp.post("/<ticket_id:int>/messages")
@documented(body=MessageCreate, response=MessageOut, status=201)
@requires()
async def send_message(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """An agent's message to the contact, stored as pending until the channel sends it."""
    await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    body = parse_body(request, MessageCreate)
    message = await actions.send_agent_message(
        actor=principal, ticket_id=ticket_id, text=body.text, now=request.app.ctx.clock()
    )
    await _committed(request, ticket_id, message_created=message)
    return respond((await messages_out([message]))[0], status=201)


@bp.post("/<ticket_id:int>/notes")
@documented(body=MessageCreate, response=MessageOut, status=201)
@requires()
async def add_note(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """An internal note on the ticket, seen by the team and never sent to the contact."""
    await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    body = parse_body(request, MessageCreate)
    message = await actions.add_note(
        actor=principal, ticket_id=ticket_id, text=body.text, now=request.app.ctx.clock()
    )
    await _committed(request, ticket_id, message_created=message)
    return respond((await messages_out([message]))[0], status=201)
