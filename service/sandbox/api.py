"""/api/sandbox/<connection_id>: inbound as a customer (or as the business's own phone, in a
group, an edit, a revoke, a file), a group renamed, what that customer received, what was
marked read and when "typing…" showed."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from bot.channel import InboundMessage, MediaRef
from bot.jids import is_group_jid
from bot.sandbox import SandboxChannel
from service.auth.guard import requires
from service.auth.tokens import Principal
from service.connections.models import Channel, Connection
from service.contacts.models import Contact
from service.contacts.phones import normalize_number
from service.errors import InvalidFields, PayloadTooLarge
from service.http import parse_body, parse_query, respond
from service.media import clean_filename, clean_mime, remove_media, store_media
from service.openapi import documented
from service.sandbox.schemas import (
    SandboxGroupRenamed,
    SandboxInbound,
    SandboxMarkedRead,
    SandboxMedia,
    SandboxMessageOut,
    SandboxOutboundQuery,
    SandboxReceived,
    SandboxTyping,
)
from service.sql import fetch
from service.tenancy import get_owned, scoped
from service.tickets.models import Direction, Message
from service.tickets.service import message_out

__all__ = ["bp"]

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


def _chat(request: Request, raw: str, field: str) -> str:
    """A chat as the service names it: a number in E.164, or a group's JID as it is."""
    return raw if is_group_jid(raw) else _number(request, raw, field)


def _decoded(media: SandboxMedia, *, max_bytes: int) -> bytes | None:
    """The file's bytes: 413 past the media limit, 422 when it is not base64."""
    if media.content_base64 is None:
        return None
    # Four base64 characters carry three bytes: refuse before decoding what is too large.
    if len(media.content_base64) // 4 * 3 > max_bytes + 3:
        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes")
    try:
        data = base64.b64decode(media.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidFields({"media.content_base64": "is not base64"}) from exc
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes")
    if not data:
        raise InvalidFields({"media.content_base64": "is empty"})
    return data


async def _media_ref(request: Request, company_id: int, media: SandboxMedia) -> MediaRef:
    """The simulated file, stored under MEDIA_DIR as a channel stores what it downloads."""
    settings = request.app.ctx.settings
    data = _decoded(media, max_bytes=settings.media_max_bytes)
    filename = clean_filename(media.filename)
    if data is None:
        mime = clean_mime(media.mime, filename) if media.mime or filename else None
        return MediaRef(media.kind, mime, filename, reference=media.reference)
    mime = clean_mime(media.mime, filename)
    stored = await store_media(
        media_dir=settings.effective_media_dir,
        company_id=company_id,
        data=data,
        mime=mime,
        filename=filename,
        now=request.app.ctx.clock(),
    )
    return MediaRef(
        media.kind, mime, filename, path=stored.path, size=stored.size, reference=media.reference
    )


@bp.post("/<connection_id:int>/inbound")
@documented(body=SandboxInbound, response=SandboxReceived, without=(409,))
@requires()
async def sandbox_inbound(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """A simulated customer writes; answers once the bot has replied (or the message is
    queued). For an edit or a revoke, `message_id` is the message changed (null if unknown)."""
    connection = await _sandbox_connection(principal, connection_id)
    body = parse_body(request, SandboxInbound)
    sender = _number(request, body.sender, "from")
    if body.group is not None and not is_group_jid(body.group):
        raise InvalidFields({"group": "is not a group's JID (digits@g.us)"})
    if body.id is not None:
        earlier = await _stored(connection.id, body.id)
        if earlier is not None:  # a redelivery, as WhatsApp does: stored once, answered once
            return respond(SandboxReceived(message_id=earlier["id"], duplicate=True))
    channels = request.app.ctx.channels
    await channels.sandbox(connection.id)  # started, so that replies can go out
    media = (
        None if body.media is None else await _media_ref(request, principal.company_id, body.media)
    )
    inbound = InboundMessage(
        connection_id=connection.id,
        channel_message_id=body.id or f"sbx-in-{uuid.uuid4().hex}",
        sender=sender,
        push_name=body.name,
        text=body.text,
        timestamp=request.app.ctx.clock(),
        media=media,
        quoted_id=body.reply_to,
        from_me=body.from_me,
        group=body.group,
        edit_of=body.edit_of,
        revoke_of=body.revoke_of,
        group_subject=body.group_subject,
    )
    await channels.on_message(inbound)
    wanted = body.edit_of or body.revoke_of or inbound.channel_message_id
    stored = await _stored(connection.id, wanted)
    if media is not None and media.path and (stored is None or stored["media_path"] != media.path):
        # Dropped (a group the connection ignores) or a changing event: keep no orphan file.
        remove_media(request.app.ctx.settings.effective_media_dir, media.path)
    return respond(SandboxReceived(message_id=stored["id"] if stored else None, duplicate=False))


@bp.post("/<connection_id:int>/group-renamed")
@documented(body=SandboxGroupRenamed, status=204, without=(409,))
@requires()
async def sandbox_group_renamed(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Somebody renames a group: the group's contact takes the new name, unless a person
    named it by hand."""
    connection = await _sandbox_connection(principal, connection_id)
    body = parse_body(request, SandboxGroupRenamed)
    if not is_group_jid(body.group):
        raise InvalidFields({"group": "is not a group's JID (digits@g.us)"})
    channel = await request.app.ctx.channels.sandbox(connection.id)
    await channel.rename_group(body.group, body.subject)
    return empty()


async def _stored(connection_id: int, channel_message_id: str) -> dict[str, Any] | None:
    """The message stored under this WhatsApp id (a hand-written statement: every simulated
    message reads it twice, and the ORM's query building costs more than the query)."""
    rows = await fetch(
        _STORED_SQL, connection_id=connection_id, channel_message_id=channel_message_id
    )
    return rows[0] if rows else None


_STORED_SQL = (
    "SELECT id, media_path FROM messages WHERE connection_id = :connection_id"
    " AND channel_message_id = :channel_message_id"
)


@bp.get("/<connection_id:int>/outbound")
@documented(query=SandboxOutboundQuery, response=SandboxMessageOut)
@requires()
async def sandbox_outbound(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Everything the business sent this customer (or group) on the connection.

    Oldest first, with each message's file and the channel id it quoted."""
    connection = await _sandbox_connection(principal, connection_id)
    number = _chat(request, parse_query(request, SandboxOutboundQuery).to, "to")
    contact = await scoped(Contact, principal.company_id).get_or_none(number=number)
    if contact is None:
        return respond({"items": []})
    messages = (
        await scoped(Message, principal.company_id)
        .filter(
            connection_id=connection.id,
            ticket__contact_id=contact.id,
            direction=Direction.outbound,
            is_note=False,
        )
        .order_by("id")
    )
    items = [
        SandboxMessageOut(
            id=m.id,
            text=m.body,
            status=m.status,
            from_bot=m.from_bot,
            media=message_out(m).media,
            quoted_channel_id=m.quoted_channel_id,
            channel_message_id=m.channel_message_id,
            created_at=m.created_at,
        )
        for m in messages
    ]
    return respond({"items": [item.model_dump(mode="json") for item in items]})


async def _running(
    request: Request, principal: Principal, connection_id: int
) -> SandboxChannel | None:
    connection = await _sandbox_connection(principal, connection_id)
    channel = request.app.ctx.channels.sessions.channel(connection.id)
    return channel if isinstance(channel, SandboxChannel) else None


@bp.get("/<connection_id:int>/marked-read")
@documented(query=SandboxOutboundQuery, response=SandboxMarkedRead)
@requires()
async def sandbox_marked_read(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """The channel ids of this customer's messages that the business marked read, in order."""
    channel = await _running(request, principal, connection_id)
    chat = _chat(request, parse_query(request, SandboxOutboundQuery).to, "to")
    items = list(channel.marked_read.get(chat, [])) if channel else []
    return respond(SandboxMarkedRead(items=items))


@bp.get("/<connection_id:int>/typing")
@documented(query=SandboxOutboundQuery, response=SandboxTyping)
@requires()
async def sandbox_typing(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Each time the business showed this customer "typing…" (true) or stopped (false)."""
    channel = await _running(request, principal, connection_id)
    chat = _chat(request, parse_query(request, SandboxOutboundQuery).to, "to")
    items = list(channel.typing.get(chat, [])) if channel else []
    return respond(SandboxTyping(items=items))
