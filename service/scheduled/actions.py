"""Every write of scheduled messages: schedule, edit, cancel, and deliver when due.

Everyone in the company may schedule a message to a contact and see the contact's
scheduled messages; only its author, a supervisor or an admin may edit or cancel it, and
only while it is pending. Each change is told to the company as `scheduled.updated`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.channel import MediaRef
from service.auth.tokens import Principal
from service.campaigns.models import ScheduledMessage, ScheduledStatus
from service.campaigns.render import contact_variables, render
from service.companies.service import get_company_settings
from service.connections.models import Connection
from service.contacts.models import Contact
from service.errors import Conflict, Forbidden, InvalidFields, PayloadTooLarge
from service.events import SCHEDULED_UPDATED, TICKET_CREATED
from service.media import clean_filename, clean_mime, kind_for_mime, remove_media, store_media
from service.realtime.broker import Broker
from service.realtime.events import EventBatch, transaction_with_events
from service.scheduled.schemas import ScheduledCreate, ScheduledMedia, ScheduledUpdate
from service.scheduled.service import scheduled_out
from service.tenancy import get_owned, owned_ids, scoped
from service.tickets import lifecycle
from service.tickets.actions import send_agent_message
from service.tickets.audience import ticket_audience
from service.tickets.history import record
from service.tickets.models import ACTIVE_STATUSES, Message, Ticket, TicketStatus
from service.tickets.service import ticket_out
from service.users.models import Role
from service.variables import check_contact_variables

__all__ = [
    "Delivery",
    "cancel_scheduled",
    "create_scheduled",
    "deliver_scheduled",
    "mark_failed",
    "update_scheduled",
]


async def _announce(row: ScheduledMessage, batch: EventBatch) -> None:
    data = await scheduled_out(row)
    SCHEDULED_UPDATED.add(batch, data, audience={"company_id": row.company_id})  # type: ignore[attr-defined]


def _check_future(send_at: datetime, now: datetime) -> None:
    if send_at <= now:
        raise InvalidFields({"send_at": "must be in the future"})


async def _connection_for(*, company_id: int, contact_id: int, wanted: int | None) -> int:
    """The connection asked for (the company's), else that of the contact's latest ticket,
    else the company's default one."""
    if wanted is not None:
        [connection] = await owned_ids(Connection, company_id, [wanted], field="connection_id")
        return connection.id
    latest: Any = (
        await scoped(Ticket, company_id)
        .filter(contact_id=contact_id)
        .order_by("-id")
        .first()
        .values_list("connection_id", flat=True)
    )
    if latest is not None:
        return int(latest)
    default = await scoped(Connection, company_id).filter(is_default=True).first()
    if default is None:
        raise InvalidFields({"connection_id": "is needed: the company has no default connection"})
    return default.id


def _may_change(actor: Principal, row: ScheduledMessage) -> None:
    author = row.user_id  # type: ignore[attr-defined]
    if actor.sees_all_tickets or (actor.user_id is not None and author == actor.user_id):
        return
    raise Forbidden("Only its author, a supervisor or an admin may change a scheduled message")


def _pending(row: ScheduledMessage) -> None:
    if row.status != ScheduledStatus.pending:
        raise Conflict(f"The message is {row.status.value}, no longer pending")


async def _store(
    media: ScheduledMedia, *, company_id: int, media_dir: Path, max_bytes: int, now: datetime
) -> MediaRef:
    try:
        data = base64.b64decode(media.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidFields({"media.content_base64": "is not base64"}) from exc
    if not data:
        raise InvalidFields({"media.content_base64": "is empty"})
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than {max_bytes} bytes")
    filename = clean_filename(media.filename)
    mime = clean_mime(media.mime, filename)
    stored = await store_media(
        media_dir=media_dir, company_id=company_id, data=data, mime=mime, filename=filename, now=now
    )
    return MediaRef(
        kind=kind_for_mime(mime),
        mime_type=mime,
        filename=filename,
        path=stored.path,
        size=stored.size,
    )


async def create_scheduled(
    *,
    actor: Principal,
    data: ScheduledCreate,
    broker: Broker,
    media_dir: Path,
    max_media_bytes: int,
    now: datetime,
) -> ScheduledMessage:
    """Schedule a message; 422 for a time not in the future, an unknown contact or
    connection; 413 for a file over the media limit."""
    _check_future(data.send_at, now)
    [contact] = await owned_ids(Contact, actor.company_id, [data.contact_id], field="contact_id")
    await check_contact_variables(
        actor=actor, templates={"body": data.body}, custom_fields=[contact.custom_fields]
    )
    connection_id = await _connection_for(
        company_id=actor.company_id, contact_id=contact.id, wanted=data.connection_id
    )
    media = None
    if data.media is not None:
        media = await _store(
            data.media,
            company_id=actor.company_id,
            media_dir=media_dir,
            max_bytes=max_media_bytes,
            now=now,
        )
    try:
        async with transaction_with_events(broker) as batch:
            row = await ScheduledMessage.create(
                company_id=actor.company_id,
                contact_id=contact.id,
                connection_id=connection_id,
                user_id=actor.user_id,
                body=data.body,
                media_path=media.path if media else None,
                media_mime=media.mime_type if media else None,
                media_name=media.filename if media else None,
                send_at=data.send_at,
                created_at=now,
            )
            await _announce(row, batch)
    except Exception:
        if media is not None and media.path:
            remove_media(media_dir, media.path)  # keep no orphan file
        raise
    return row


async def update_scheduled(
    *, actor: Principal, scheduled_id: int, data: ScheduledUpdate, broker: Broker, now: datetime
) -> ScheduledMessage:
    """Change the text, the time or the connection of a pending message."""
    if data.send_at is not None:
        _check_future(data.send_at, now)
    async with transaction_with_events(broker) as batch:
        row = await get_owned(ScheduledMessage, actor.company_id, scheduled_id, lock=True)
        _may_change(actor, row)
        _pending(row)
        if data.connection_id is not None:
            row.connection_id = await _connection_for(
                company_id=actor.company_id,
                contact_id=row.contact_id,  # type: ignore[attr-defined]
                wanted=data.connection_id,
            )
        if data.body is not None:
            if not data.body and not row.media_path:
                raise InvalidFields({"body": "a text or a file is needed"})
            contact = await Contact.get(id=row.contact_id)  # type: ignore[attr-defined]
            await check_contact_variables(
                actor=actor, templates={"body": data.body}, custom_fields=[contact.custom_fields]
            )
            row.body = data.body
        if data.send_at is not None:
            row.send_at = data.send_at
        await row.save()
        await _announce(row, batch)
    return row


async def cancel_scheduled(
    *, actor: Principal, scheduled_id: int, broker: Broker, media_dir: Path
) -> ScheduledMessage:
    """Cancel a pending message (409 once it is sent, failed or cancelled)."""
    async with transaction_with_events(broker) as batch:
        row = await get_owned(ScheduledMessage, actor.company_id, scheduled_id, lock=True)
        _may_change(actor, row)
        _pending(row)
        cancelled = await ScheduledMessage.filter(id=row.id, status=ScheduledStatus.pending).update(
            status=ScheduledStatus.cancelled
        )
        if not cancelled:  # the runner claimed it meanwhile (SQLite has no row locks)
            raise Conflict("The message is no longer pending")
        await row.refresh_from_db()
        await _announce(row, batch)
    if row.media_path:
        remove_media(media_dir, row.media_path)  # it will never be sent
    return row


# Delivery, by the runner


@dataclass(frozen=True, slots=True)
class Delivery:
    """A scheduled message that became a ticket message, still pending on the channel."""

    scheduled: ScheduledMessage
    ticket: Ticket
    ticket_created: bool
    message: Message


async def _ticket_for(row: ScheduledMessage, now: datetime) -> tuple[Ticket, bool]:
    """The contact's active ticket on the connection, else a new one: `open` and assigned to
    the author, or `pending` without a queue (admins see it) when the author is gone."""
    where = {
        "contact_id": row.contact_id,  # type: ignore[attr-defined]
        "connection_id": row.connection_id,  # type: ignore[attr-defined]
        "status__in": ACTIVE_STATUSES,
    }
    active = await Ticket.filter(**where).first()
    if active is not None:
        return active, False
    author = row.user_id  # type: ignore[attr-defined]
    status = TicketStatus.open if author is not None else TicketStatus.pending
    try:
        async with in_transaction():  # a savepoint: a clash must not abort the claim
            ticket = await Ticket.create(
                company_id=row.company_id,  # type: ignore[attr-defined]
                contact_id=row.contact_id,  # type: ignore[attr-defined]
                connection_id=row.connection_id,  # type: ignore[attr-defined]
                created_at=now,
                **lifecycle.open_new(status=status, user_id=author, now=now),
            )
    except IntegrityError:  # the customer wrote just now: that ticket is the active one
        return await Ticket.get(**where), False
    return ticket, True


async def _rendered(row: ScheduledMessage, now: datetime) -> str:
    """The body for its contact now, through the product's one renderer (the greeting on
    the company's clock, in the contact's language, else the company's)."""
    if "{{" not in row.body:
        return row.body
    contact = await Contact.get(id=row.contact_id)  # type: ignore[attr-defined]
    settings = await get_company_settings(company_id=row.company_id)  # type: ignore[attr-defined]
    values = contact_variables(
        name=contact.name,
        number=contact.number,
        custom_fields=contact.custom_fields,
        now=now,
        timezone=settings.timezone,
        language=contact.language or settings.language,
    )
    return render(row.body, values)


async def deliver_scheduled(*, scheduled_id: int, now: datetime, broker: Broker) -> Delivery | None:
    """Claim a due message and store it as the author's message on the contact's ticket.

    The claim (pending → sent) and the ticket message commit together; a claim that finds
    the row no longer pending (another worker took it, or it was cancelled) does nothing,
    so one message is never sent twice. The caller hands the message to the sender after
    commit. Errors roll everything back; the caller marks the row failed."""
    async with transaction_with_events(broker) as batch:
        claimed = await ScheduledMessage.filter(
            id=scheduled_id, status=ScheduledStatus.pending, send_at__lte=now
        ).update(status=ScheduledStatus.sent, sent_at=now)
        if not claimed:
            return None
        row = await ScheduledMessage.get(id=scheduled_id)
        ticket, created = await _ticket_for(row, now)
        if created:
            opened = lifecycle.opened(ticket, by=lifecycle.Actor.user(row.user_id), now=now)  # type: ignore[attr-defined]
            await record([opened], batch)
            TICKET_CREATED.add(batch, await ticket_out(ticket), audience=ticket_audience(ticket))
        # The author wrote it and was allowed to then: it goes on whichever active ticket
        # the contact has now, as a supervisor may write on any (sender still the author).
        actor = Principal(
            company_id=row.company_id,  # type: ignore[attr-defined]
            role=Role.supervisor,
            user_id=row.user_id,  # type: ignore[attr-defined]
        )
        media = None
        if row.media_path:
            mime = row.media_mime or "application/octet-stream"
            media = MediaRef(
                kind=kind_for_mime(mime),
                mime_type=mime,
                filename=row.media_name,
                path=row.media_path,
            )
        text = await _rendered(row, now)
        message = await send_agent_message(
            actor=actor, ticket_id=ticket.id, text=text, now=now, media=media, broker=broker
        )
        row.message_id = message.id
        await row.save(update_fields=["message_id"])
        ticket = await Ticket.get(id=ticket.id)
        await _announce(row, batch)
    return Delivery(scheduled=row, ticket=ticket, ticket_created=created, message=message)


async def mark_failed(*, scheduled_id: int, reason: str, broker: Broker) -> ScheduledMessage | None:
    """A due message that could not become a ticket message; None if no longer pending."""
    async with transaction_with_events(broker) as batch:
        failed = await ScheduledMessage.filter(
            id=scheduled_id, status=ScheduledStatus.pending
        ).update(status=ScheduledStatus.failed, reason=reason[:300])
        if not failed:
            return None
        row = await ScheduledMessage.get(id=scheduled_id)
        await _announce(row, batch)
        return row
