"""/api/tickets: the inbox. Everyone works on the tickets they may see; see
service.tickets.service.visible_tickets for who sees what (a ticket one may not see is a 404)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty
from sanic_ext import openapi

from bot.channel import MediaRef
from service.auth.guard import requires
from service.auth.tokens import Principal
from service.contacts.models import Contact
from service.errors import ApiError, NotFound
from service.http import PageQuery, parse_body, parse_query, respond
from service.media import (
    kind_for_mime,
    media_file,
    media_response,
    parse_upload,
    remove_media,
    store_media,
)
from service.openapi import documented
from service.realtime.broker import Broker
from service.tenancy import id_in_range, scoped
from service.tickets import actions
from service.tickets.history import history_of
from service.tickets.models import Message, Ticket
from service.tickets.schemas import (
    MAX_MESSAGE_TEXT,
    HistoryEntryOut,
    MediaUpload,
    MessageCreate,
    MessageOut,
    TicketOut,
    TicketQuery,
    TransferBody,
    TypingBody,
)
from service.tickets.service import (
    get_visible_ticket,
    get_writable_ticket,
    messages_out,
    messages_page,
    ticket_out,
    tickets_page,
)

__all__ = ["bp", "messages_bp"]

log = logging.getLogger("atende.tickets")

bp = Blueprint("tickets", url_prefix="/api/tickets")
messages_bp = Blueprint("messages", url_prefix="/api/messages")

# POST /api/tickets/{id}/media, as OpenAPI describes a multipart/form-data body.
_UPLOAD_BODY = {
    "multipart/form-data": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "The file: sent as an image, audio, video or document by its type",
            },
            "caption": {
                "type": "string",
                "maxLength": MAX_MESSAGE_TEXT,
                "description": "Text shown with the file",
            },
            "reply_to": {
                "type": "integer",
                "minimum": 1,
                "maximum": 2**31 - 1,
                "description": "The id of a message of this ticket to quote",
            },
        },
    }
}
_FILE_RESPONSE = {
    "application/octet-stream": {
        "type": "string",
        "format": "binary",
        "description": "The file's bytes, with its type in Content-Type",
    }
}


async def _send_pending(request: Request, ticket_id: int) -> None:
    """After an action committed (and published its events): send what it left pending, so
    that a message's `message.created` comes before the `message.updated` of its sending."""
    await request.app.ctx.channels.sender.send_pending_of(ticket_id)


def _broker(request: Request) -> Broker:
    broker: Broker = request.app.ctx.broker
    return broker


async def _tell_channel(call: Awaitable[None], *, what: str, connection_id: int) -> None:
    """Read marks and typing are courtesies: a channel that cannot show them now (down,
    or run elsewhere) must not fail the agent's request."""
    try:
        await call
    except Exception:
        log.warning(
            "could not %s on connection %s",
            what,
            connection_id,
            exc_info=True,
            extra={"connection_id": connection_id},
        )


async def _chat_of(ticket: Ticket) -> str:
    """The WhatsApp chat of a ticket: its contact's number (or group JID)."""
    contact = await (
        scoped(Contact, ticket.company_id)  # type: ignore[attr-defined]
        .get(id=ticket.contact_id)  # type: ignore[attr-defined]
        .only("id", "number")
    )
    return contact.number


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


@bp.get("/<ticket_id:int>/history")
@documented(page_of=HistoryEntryOut)
@requires()
async def read_history(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """What happened to the ticket, oldest first, in one page: handed off, accepted,
    transferred (with the note), closed (by whom, why), reopened, rated; live as
    `ticket.history` events."""
    ticket = await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    lines = await history_of(company_id=principal.company_id, ticket_id=ticket.id)
    return respond({"items": [line.model_dump(mode="json") for line in lines], "next_cursor": None})


@bp.post("/<ticket_id:int>/accept")
@documented(
    response=TicketOut,
    errors={
        403: "An agent accepts only tickets of their queues; an API token accepts none (it"
        " cannot be a ticket's agent)",
        409: "Someone else accepted the ticket first",
    },
)
@requires()
async def accept_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Take a pending ticket of one's queue: it becomes open and the caller's (409 when someone
    else took it first)."""
    ticket = await actions.accept_ticket(
        actor=principal, ticket_id=ticket_id, now=request.app.ctx.clock(), broker=_broker(request)
    )
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
        note=body.note,
        now=request.app.ctx.clock(),
        broker=_broker(request),
    )
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/close")
@documented(response=TicketOut)
@requires()
async def close_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Close an active ticket."""
    ticket = await actions.close_ticket(
        actor=principal,
        ticket_id=ticket_id,
        now=request.app.ctx.clock(),
        broker=_broker(request),
    )
    await _send_pending(request, ticket.id)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/reopen")
@documented(
    response=TicketOut, errors={403: "An API token cannot reopen a ticket (nor be its agent)"}
)
@requires()
async def reopen_ticket(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Reopen a closed ticket as the caller's (409 when the contact has another active one)."""
    ticket = await actions.reopen_ticket(
        actor=principal, ticket_id=ticket_id, now=request.app.ctx.clock(), broker=_broker(request)
    )
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/read")
@documented(response=TicketOut)
@requires()
async def read_messages(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """The caller has read the ticket: its unread count goes back to 0, and the customer's
    unread messages are marked read on WhatsApp (blue ticks)."""
    read = await actions.mark_read(actor=principal, ticket_id=ticket_id, broker=_broker(request))
    ticket = read.ticket
    if read.unread_channel_ids:
        connection_id: int = ticket.connection_id  # type: ignore[attr-defined]
        call = request.app.ctx.channels.mark_read(
            connection_id, await _chat_of(ticket), read.unread_channel_ids
        )
        await _tell_channel(call, what="mark messages read", connection_id=connection_id)
    return respond(await ticket_out(ticket))


@bp.post("/<ticket_id:int>/typing")
@documented(body=TypingBody, status=204, without=(409,))
@requires()
async def typing(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Show the contact that the caller is typing (or stop); allowed to whoever may write."""
    ticket = await get_writable_ticket(principal=principal, ticket_id=ticket_id)
    body = parse_body(request, TypingBody)
    connection_id: int = ticket.connection_id  # type: ignore[attr-defined]
    call = request.app.ctx.channels.set_typing(connection_id, await _chat_of(ticket), body.typing)
    await _tell_channel(call, what="show typing", connection_id=connection_id)
    return empty()


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
    """An agent's message to the contact, stored as pending until the channel sends it;
    `reply_to` quotes one of the ticket's messages."""
    await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    body = parse_body(request, MessageCreate)
    message = await actions.send_agent_message(
        actor=principal,
        ticket_id=ticket_id,
        text=body.text,
        reply_to=body.reply_to,
        now=request.app.ctx.clock(),
        broker=_broker(request),
    )
    await _send_pending(request, ticket_id)
    return respond((await messages_out([message]))[0], status=201)


@bp.post("/<ticket_id:int>/media")
@openapi.body(_UPLOAD_BODY, required=True)
@documented(response=MessageOut, status=201)
@requires()
async def send_media(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """Send a file to the contact, as an image, audio, video or document by its type.

    multipart/form-data: `file`, and optionally `caption` and `reply_to` (a message of this
    ticket to quote); 413 past the media size limit. Stored as pending, like a text reply."""
    await get_writable_ticket(principal=principal, ticket_id=ticket_id)
    settings = request.app.ctx.settings
    upload, fields = parse_upload(request, MediaUpload, max_bytes=settings.media_max_bytes)
    now = request.app.ctx.clock()
    media_dir = settings.effective_media_dir
    stored = await store_media(
        media_dir=media_dir,
        company_id=principal.company_id,
        data=upload.data,
        mime=upload.mime,
        filename=upload.filename,
        now=now,
    )
    media = MediaRef(
        kind=kind_for_mime(upload.mime),
        mime_type=upload.mime,
        filename=upload.filename,
        path=stored.path,
        size=stored.size,
    )
    try:
        message = await actions.send_agent_message(
            actor=principal,
            ticket_id=ticket_id,
            text=fields.caption,
            reply_to=fields.reply_to,
            media=media,
            now=now,
            broker=_broker(request),
        )
    except ApiError:
        remove_media(media_dir, stored.path)  # refused after all: keep no orphan file
        raise
    await _send_pending(request, ticket_id)
    return respond((await messages_out([message]))[0], status=201)


@bp.post("/<ticket_id:int>/notes")
@documented(body=MessageCreate, response=MessageOut, status=201)
@requires()
async def add_note(request: Request, principal: Principal, ticket_id: int) -> HTTPResponse:
    """An internal note on the ticket, seen by the team and never sent to the contact."""
    await get_visible_ticket(principal=principal, ticket_id=ticket_id)
    body = parse_body(request, MessageCreate)
    message = await actions.add_note(
        actor=principal,
        ticket_id=ticket_id,
        text=body.text,
        now=request.app.ctx.clock(),
        broker=_broker(request),
    )
    return respond((await messages_out([message]))[0], status=201)


@messages_bp.get("/<message_id:int>/media")
@openapi.response(200, _FILE_RESPONSE, "the file")
@documented()
@requires()
async def download_media(request: Request, principal: Principal, message_id: int) -> HTTPResponse:
    """A message's file, for whoever sees its ticket; 404 when it has none stored here."""
    missing = NotFound(f"No media for message {message_id}")
    if not id_in_range(Message, message_id):
        raise missing
    message = await scoped(Message, principal.company_id).filter(id=message_id).first()
    if message is None or not message.media_path:
        raise missing
    try:
        await get_visible_ticket(principal=principal, ticket_id=message.ticket_id)  # type: ignore[attr-defined]
    except NotFound:
        raise missing from None
    path = media_file(request.app.ctx.settings.effective_media_dir, message.media_path)
    if path is None:
        raise missing
    return await media_response(path, mime=message.media_mime, filename=message.media_name)
