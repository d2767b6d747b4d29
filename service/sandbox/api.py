"""/api/sandbox/<connection_id>: inbound as a customer, and what that customer received."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.connections.models import Channel, Connection
from service.contacts.models import Contact
from service.contacts.phones import normalize_number
from service.errors import InvalidFields
from service.http import parse_body, parse_query, respond
from service.openapi import documented
from service.sandbox.schemas import (
    SandboxInbound,
    SandboxMessageOut,
    SandboxOutboundQuery,
    SandboxReceived,
)
from service.tenancy import get_owned
from service.tickets.models import Direction, Message

bp = Blueprint("sandbox", url_prefix="/api/sandbox")


async def _sandbox_connection(principal: Principal, connection_id: int) -> Connection:
    connection = await get_owned(Connection, principal.company_id, connection_id)
    if connection.channel != Channel.sandbox:
        raise InvalidFields({"connection_id": "is not a sandbox connection"})
    return connection


def _number(request: Request, raw: str, field: str) -> str:
    try:
        return normalize_number(raw, request.app.ctx.settings.default_country)
    except ValueError as exc:
        raise InvalidFields({field: str(exc)}) from exc


@bp.post("/<connection_id:int>/inbound")
@documented(body=SandboxInbound, response=SandboxReceived)
@requires()
async def sandbox_inbound(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """A simulated customer writes; answers once the bot has replied (or the message is queued)."""
    connection = await _sandbox_connection(principal, connection_id)
    body = parse_body(request, SandboxInbound)
    sender = _number(request, body.sender, "from")
    if body.id is not None:
        earlier = await Message.get_or_none(connection_id=connection.id, channel_message_id=body.id)
        if earlier is not None:  # a redelivery, as WhatsApp does: stored once, answered once
            return respond(SandboxReceived(message_id=earlier.id, duplicate=True))
    channel = await request.app.ctx.channels.sandbox(connection.id)
    delivered = await channel.deliver(
        sender=sender, text=body.text, push_name=body.name, message_id=body.id
    )
    stored = await Message.get_or_none(
        connection_id=connection.id, channel_message_id=delivered.channel_message_id
    )
    return respond(SandboxReceived(message_id=stored.id if stored else None, duplicate=False))


@bp.get("/<connection_id:int>/outbound")
@documented(query=SandboxOutboundQuery, response=SandboxMessageOut)
@requires()
async def sandbox_outbound(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Everything the business sent this customer on the connection, oldest first."""
    connection = await _sandbox_connection(principal, connection_id)
    number = _number(request, parse_query(request, SandboxOutboundQuery).to, "to")
    contact = await Contact.get_or_none(company_id=principal.company_id, number=number)
    if contact is None:
        return respond({"items": []})
    messages = await Message.filter(
        connection_id=connection.id,
        ticket__contact_id=contact.id,
        direction=Direction.outbound,
        is_note=False,
    ).order_by("id")
    items = [
        SandboxMessageOut(
            id=m.id, text=m.body, status=m.status, from_bot=m.from_bot, created_at=m.created_at
        )
        for m in messages
    ]
    return respond({"items": [item.model_dump(mode="json") for item in items]})
