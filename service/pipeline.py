"""Inbound, end to end: persist first, run the flow for bot tickets, apply its events,
store and send the replies, publish after commit, mark processed (DESIGN.md, lifecycle).

Persisting is idempotent on (connection, channel message id). Processing drains a
ticket's unprocessed inbound messages in id order under the ticket's row lock, so one
conversation is handled in order while different conversations run concurrently, and a
crash between the two steps is repaired by `recover()` at start-up.

Besides a customer's message, a channel reports messages sent from the business's own phone
(stored as sent agent messages), edits and revokes (applied to the message they name) and,
when the connection enables groups, group messages (a ticket per group, never the bot).

This is the hot path, so it counts its statements, and writes them out (service.statements)
rather than have the ORM build them anew for every message. A customer's message is looked
up in one query (the connection with the stamp of its cached bot, service.flow_config; the
contact; its latest ticket; whether a campaign message went to it lately), which on
Postgres also stores the message when that ticket is active; a redelivery is caught by the
message's unique key rather than looked up first (the lookup runs only before a write that
a redelivery must not cause: a new ticket, a lapsed rating question); the contact read by
`persist` is reused by the processing that follows it. Processing locks the ticket and
claims its unprocessed messages (one statement on Postgres), and writes the ticket's
changed columns with the bot's replies (one statement on Postgres); the replies go to the
sender as stored, and the unit's events to the broker in one round trip. A new ticket is
announced as `ticket.created` once its row is committed."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from bot.channel import InboundMessage
from flows.builtin import default_router
from flows.builtin.csat import answers_question
from flows.builtin.hours import OUT_OF_HOURS_SLOT
from flows.context import BotConfig
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
from service.campaigns.actions import ANSWER_WINDOW, campaign_answered
from service.clock import Clock
from service.contacts.actions import contact_updated, follow_group_subject, set_opted_out
from service.contacts.models import Contact
from service.contacts.phones import language_of_number, normalize_number
from service.events import MESSAGE_CREATED, TICKET_CREATED, TICKET_HISTORY, message_updated
from service.flow_config import (
    STAMP_COLUMNS,
    BotConfigs,
    ConnectionInfo,
    bot_config_for,
    conversation_for,
)
from service.media import media_fields
from service.outbound import OutboundSender
from service.realtime.broker import Broker
from service.realtime.events import EventBatch, transaction_with_events
from service.statements import (
    fetch,
    insert,
    insert_along,
    insert_select,
    insert_statement,
    is_postgres,
    update,
    update_statement,
)
from service.tickets import lifecycle
from service.tickets.audience import ticket_audience
from service.tickets.history import announce as announce_ticket
from service.tickets.history import history_out, record
from service.tickets.lifecycle import BOT, CUSTOMER, Change
from service.tickets.models import (
    ACTIVE_STATUSES,
    Direction,
    Message,
    MessageStatus,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from service.tickets.service import message_out, ticket_out

__all__ = ["Pipeline", "is_group_jid"]

log = logging.getLogger("atende.pipeline")

# "120363025246125244@g.us", or the older "<creator>-<timestamp>@g.us"; it is the group's
# contact number, so it must fit that column.
_GROUP_JID = re.compile(r"^[0-9]{1,20}(-[0-9]{1,20})?@g\.us$")
_MAX_CONTACT_NUMBER = 32
# What processing may change on a ticket: only those of them that changed are written.
_PROCESSED_FIELDS = (
    "status",
    "campaign_id",
    "queue_id",
    "flow_state",
    "unread_count",
    "rating",
    "last_message",
    "last_message_at",
    "handed_off_at",
    "closed_at",
)


# The hot path's statements, written out (service.statements): the ORM would build the same
# SQL anew for every message (a fifth of the pipeline's CPU). `?` marks a parameter; FOR
# UPDATE is Postgres's only.
_CONTACT_SQL = "SELECT * FROM contacts WHERE company_id = ? AND number = ? LIMIT 1"
_ACTIVE_TICKET_SQL = (
    "SELECT * FROM tickets WHERE contact_id = ? AND connection_id = ? AND status IN ({}) LIMIT 1"
).format(", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES))
_LOCK_TICKET_SQL = "SELECT * FROM tickets WHERE id = ? FOR UPDATE"
# Under the ticket's lock: its unprocessed messages, marked processed by the transaction
# that processes them (a rollback leaves them unprocessed, for `recover`).
_CLAIM_SQL = (
    "UPDATE messages SET processed_at = ? WHERE ticket_id = ? AND direction = 'in'"
    " AND processed_at IS NULL RETURNING *"
)
_ACTIVE_VALUES = frozenset(status.value for status in ACTIVE_STATUSES)
# Of those, the ones whose change the inbox hears of as `ticket.updated` (a new message tells
# of its last message and unread count itself, and flow_state is not shown).
_SHOWN = frozenset(_PROCESSED_FIELDS) - {
    "unread_count",
    "last_message",
    "last_message_at",
    "flow_state",
}
_M = TypeVar("_M", bound=Model)


async def _fetch(model: type[_M], sql: str, *values: Any) -> list[_M]:
    """The rows of a `SELECT *` of the model's table, as models."""
    return [model._init_from_db(**row) for row in await fetch(sql, *values)]


@functools.cache
def _columns(model: type[Model]) -> list[str]:
    return sorted(model._meta.fields_db_projection.values())


@functools.cache
def _customer_sql() -> str:
    """The connection's stamp, the contact with a number (columns `k_…`), its latest
    ticket on the connection (`t_…`) and whether it may be answering a campaign; built once
    the ORM knows every column."""
    contact = ", ".join(f'k."{c}" AS k_{c}' for c in _columns(Contact))
    ticket = ", ".join(f't."{c}" AS t_{c}' for c in _columns(Ticket))
    active = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
    # Whether a new conversation may answer a campaign: a campaign message went to the
    # contact on this connection since `?` (read only when no conversation is going on).
    campaign = (
        f"CASE WHEN t.status IN ({active}) THEN NULL ELSE EXISTS (SELECT 1"
        " FROM campaign_recipients r JOIN campaigns g ON g.id = r.campaign_id"
        " WHERE r.contact_id = k.id AND g.connection_id = c.id AND r.sent_at >= ?)"
        " END AS campaign_recent"
    )
    return (
        f"SELECT {STAMP_COLUMNS}, {contact}, {ticket}, {campaign} FROM connections c"
        " LEFT JOIN contacts k ON k.company_id = c.company_id AND k.number = ?"
        " LEFT JOIN tickets t ON t.id = (SELECT MAX(l.id) FROM tickets l"
        " WHERE l.contact_id = k.id AND l.connection_id = c.id)"
        " WHERE c.id = ?"
    )


# The two joined with the customer's message stored on the latest ticket when it is active
# (the common case, a conversation going on), in one statement: Postgres (SQLite cannot
# write in a WITH). A row without `m_id` for an active ticket is a redelivery.
_STORED_ON_LATEST = {"company_id": "r.c_company_id", "ticket_id": "r.t_id"}


@functools.cache
def _customer_storing_sql(columns: str, select: str) -> str:
    active = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
    return (
        f"WITH r AS ({_customer_sql()}),"
        f" m AS (INSERT INTO messages ({columns}) SELECT {select} FROM r"
        f" WHERE r.t_status IN ({active}) ON CONFLICT DO NOTHING RETURNING id)"
        " SELECT r.*, (SELECT id FROM m) AS m_id FROM r"
    )


@functools.cache
def _lock_and_claim_sql() -> str:
    """Postgres: the ticket locked (`t_…`) and its unprocessed messages claimed (`m_…`) in
    one statement. The claim reads after the lock is granted: a message that the lock's
    previous holder claimed is re-checked on its newest version and skipped."""
    ticket = ", ".join(f't."{c}" AS t_{c}' for c in _columns(Ticket))
    message = ", ".join(f'm."{c}" AS m_{c}' for c in _columns(Message))
    claim = _CLAIM_SQL.replace("ticket_id = ?", "ticket_id = (SELECT id FROM t)")
    return (
        "WITH t AS (SELECT * FROM tickets WHERE id = ? FOR UPDATE),"
        f" m AS ({claim})"
        f" SELECT {ticket}, {message} FROM t LEFT JOIN m ON true"
    )


def _prefixed(model: type[_M], row: dict[str, Any], prefix: str) -> _M | None:
    """The model whose columns the row has under `prefix`; None when the join found none."""
    if row[f"{prefix}id"] is None:
        return None
    return model._init_from_db(**{c: row[prefix + c] for c in _columns(model)})


async def _first(model: type[_M], sql: str, *values: Any) -> _M | None:
    rows = await _fetch(model, sql, *values)
    return rows[0] if rows else None


# A customer writes many messages: their sender is parsed once (phonenumbers is slow).
# A sender that is not a number raises each time: exceptions are not cached.
_normalized = functools.lru_cache(maxsize=20_000)(normalize_number)


def _group_name(inbound: InboundMessage) -> str:
    """A new group contact's name: the group's subject, else (not known yet) its JID."""
    subject = (inbound.group_subject or "").strip()[:200]
    return subject or inbound.group or ""


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


# Whether the inbound message is stored already (a redelivery).
_Check = Callable[[], Awaitable[bool]]


@dataclass
class _Stored:
    """A stored inbound message and what storing it read, for the processing that follows."""

    message_id: int
    ticket_id: int
    contact: Contact
    connection: ConnectionInfo
    campaign_recent: bool = True  # see _Customer


@dataclass(frozen=True)
class _Customer:
    """What one statement read (and perhaps stored) for a customer's message."""

    connection: ConnectionInfo
    number: str
    contact: Contact | None
    latest: Ticket | None  # the contact's latest ticket on the connection
    tried: bool  # whether the statement tried to store the message on `latest`
    stored: _Stored | None  # the message, if it stored it
    # False when no campaign message went to the contact lately (its new conversation
    # answers none: nothing to look up); True when there was or it is not known.
    campaign_recent: bool = True


class _Redelivery:
    """Whether the inbound message is stored already: asked at most once, and only before a
    write that a redelivery must not cause (the message's own insert catches the rest)."""

    def __init__(self, inbound: InboundMessage) -> None:
        self._inbound = inbound
        self._known: bool | None = None

    async def __call__(self) -> bool:
        if self._known is None:
            self._known = await Message.exists(
                connection_id=self._inbound.connection_id,
                channel_message_id=self._inbound.channel_message_id,
            )
        return self._known


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
        self._configs = BotConfigs()

    async def receive(self, inbound: InboundMessage) -> int | None:
        """Persist and process one inbound message; its id, or None when nothing was left to
        process (a redelivery, a dropped message, an edit, a revoke, one sent from our phone)."""
        stored = await self._persist(inbound)
        if stored is None:
            return None
        await self._process(stored.ticket_id, stored)
        return stored.message_id

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
        stored = await self._persist(inbound)
        return None if stored is None else (stored.message_id, stored.ticket_id)

    async def _persist(self, inbound: InboundMessage) -> _Stored | None:
        if inbound.edit_of is not None or inbound.revoke_of is not None:
            await self._change(inbound)
            return None
        contact: Contact | None = None
        latest: Ticket | None = None
        campaign_recent = True
        if inbound.group is None and not inbound.from_me:
            found = await self._customer(inbound)
            if found is None:
                return None
            if found.stored is not None:
                return found.stored
            if found.tried:
                return None  # a redelivery, or the same delivery stored concurrently
            connection, number, contact, latest = (
                found.connection,
                found.number,
                found.contact,
                found.latest,
            )
            campaign_recent = found.campaign_recent
        else:
            known = await self._configs.connection(inbound.connection_id)
            if known is None:
                log.warning("inbound for unknown connection %s dropped", inbound.connection_id)
                return None
            connection = known
            chat = self._chat_number(inbound, connection)
            if chat is None:
                return None
            number = chat
        company_id = connection.company_id
        redelivered: _Check = _Redelivery(inbound)
        if inbound.from_me:
            if not await redelivered():
                await self._record_own(inbound, company_id=company_id, number=number)
            return None
        body = inbound.text
        if inbound.group is not None:
            body = _group_body(inbound, inbound.text)
            contact = await _first(Contact, _CONTACT_SQL, company_id, number)
            if contact is not None and inbound.group_subject:
                contact = await self._group_named(contact, inbound.group_subject)
        if contact is None and inbound.group is None and is_postgres():
            first = await _first_message(inbound, company_id=company_id, number=number)
            if first is not None:
                made, opened, message_id = first
                await self._announce_created(opened, made)
                # A new contact: no campaign message went to it.
                return _Stored(message_id, opened.id, made, connection, campaign_recent=False)
        if contact is None:
            name = _group_name(inbound) if inbound.group is not None else inbound.push_name
            contact = await self._new_contact(
                company_id, number, name, is_group=inbound.group is not None
            )
            redelivered = _not_redelivered  # see _new_contact
        if inbound.group is not None:
            ticket = await self._group_ticket(company_id, contact.id, connection.id, redelivered)
        else:
            ticket = await self._active_ticket(
                company_id, contact.id, connection.id, body, redelivered, latest
            )
        if ticket is None:
            return None  # a redelivery, found before it could open anything
        row = {"company_id": company_id, "ticket_id": ticket.id, **_inbound_row(inbound, body)}
        stored = await insert(Message, [row], skip_conflicts=True)
        if not stored:
            return None  # a redelivery, or the same delivery stored concurrently
        return _Stored(stored[0].id, ticket.id, contact, connection, campaign_recent)

    async def _customer(self, inbound: InboundMessage) -> _Customer | None:
        """A customer's message: its connection (with the stamp of its bot), the sender's
        number, contact and latest ticket on the connection, in one statement, which on
        Postgres also stores the message when that ticket is active; None (and the message
        dropped) for an unknown connection or an unusable sender."""
        try:
            number = _normalized(inbound.sender, self._country)
        except ValueError:
            extra = {"connection_id": inbound.connection_id}
            log.warning("inbound from an unusable sender dropped", extra=extra)
            return None
        postgres = is_postgres()
        since = self._clock() - ANSWER_WINDOW
        if postgres:
            columns, select, values = insert_select(
                Message, _inbound_row(inbound, inbound.text), _STORED_ON_LATEST
            )
            sql = _customer_storing_sql(columns, select)
            rows = await fetch(sql, since, number, inbound.connection_id, *values)
        else:
            rows = await fetch(_customer_sql(), since, number, inbound.connection_id)
        if not rows:
            log.warning("inbound for unknown connection %s dropped", inbound.connection_id)
            return None
        row = rows[0]
        connection = ConnectionInfo.of_row(inbound.connection_id, row)
        contact = _prefixed(Contact, row, "k_")
        message_id = row.get("m_id")
        if message_id is not None and contact is not None:  # the common case: no more to read
            stored = _Stored(message_id, row["t_id"], contact, connection)
            return _Customer(connection, number, contact, None, tried=True, stored=stored)
        return _Customer(
            connection,
            number,
            contact,
            _prefixed(Ticket, row, "t_"),
            tried=postgres and row["t_status"] in _ACTIVE_VALUES,
            stored=None,
            campaign_recent=row["campaign_recent"] is None or bool(row["campaign_recent"]),
        )

    def _chat_number(self, inbound: InboundMessage, connection: ConnectionInfo) -> str | None:
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
            return _normalized(inbound.sender, self._country)
        except ValueError:
            log.warning("inbound from an unusable sender dropped", extra=extra)
            return None

    async def _record_own(self, inbound: InboundMessage, *, company_id: int, number: str) -> None:
        """A message sent from the business's phone: an agent's message, already sent, on the
        contact's active ticket, else its latest, else a new pending one; no bot involved."""
        is_group = inbound.group is not None
        # Our push name is not the customer's: a contact made here starts without a name (a
        # group's with the group's).
        name = _group_name(inbound) if is_group else ""
        contact = await self._contact(company_id, number, name, is_group=is_group)
        if is_group and inbound.group_subject:
            contact = await self._group_named(contact, inbound.group_subject)
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

    async def _group_ticket(
        self, company_id: int, contact_id: int, connection_id: int, redelivered: _Check
    ) -> Ticket | None:
        """The group's active ticket on the connection, else a new one waiting for an admin
        (None for a redelivery)."""
        active = await Ticket.filter(
            contact_id=contact_id, connection_id=connection_id, status__in=ACTIVE_STATUSES
        ).first()
        if active is not None:
            return active
        if await redelivered():
            return None
        return await self._new_pending_ticket(company_id, contact_id, connection_id)

    async def _new_pending_ticket(
        self, company_id: int, contact_id: int, connection_id: int
    ) -> Ticket:
        """A ticket straight in `pending` without a queue (so admins see it); never the bot's."""
        return await self._new_ticket(
            company_id=company_id,
            contact_id=contact_id,
            connection_id=connection_id,
            status=TicketStatus.pending,
            handed_off_at=self._clock(),
        )

    async def _new_ticket(self, **values: Any) -> Ticket:
        """A new active ticket of the contact, announced; or the one another message of the
        chat created just now (there is one active ticket per contact and connection)."""
        created = await insert(Ticket, [values], skip_conflicts=True)
        if not created:
            found = await _fetch(
                Ticket, _ACTIVE_TICKET_SQL, values["contact_id"], values["connection_id"]
            )
            return found[0]
        await self._announce_created(created[0])
        return created[0]

    async def _announce_created(self, ticket: Ticket, contact: Contact | None = None) -> None:
        """`ticket.created`, the ticket as the API shows it; its row is committed already."""
        try:
            data = await ticket_out(ticket, contact=contact)
            await self._broker.publish(TICKET_CREATED.event(data, audience=ticket_audience(ticket)))
        except Exception:
            # The ticket exists; a lost notification is caught up by re-fetching.
            log.exception("could not publish ticket.created")

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
            event = message_updated(target)
            batch.add(event["type"], event["data"], audience=event["audience"])

    async def _contact(
        self, company_id: int, number: str, name: str, *, is_group: bool = False
    ) -> Contact:
        """The contact with this number, made if new."""
        contact = await _first(Contact, _CONTACT_SQL, company_id, number)
        if contact is not None:
            return contact
        return await self._new_contact(company_id, number, name, is_group=is_group)

    async def _group_named(self, contact: Contact, subject: str) -> Contact:
        """The group's contact, renamed to the subject the channel has just learnt unless a
        person named it (service.contacts.actions). Only a group's first message since its
        channel connected brings a subject: the others cost nothing here."""
        if contact.name == subject:
            return contact
        renamed = await follow_group_subject(
            company_id=contact.company_id,  # type: ignore[attr-defined]
            group=contact.number,
            subject=subject,
            broker=self._broker,
        )
        return renamed or contact

    async def _new_contact(
        self, company_id: int, number: str, name: str, *, is_group: bool = False
    ) -> Contact:
        """A contact not found a moment ago, made now. No redelivery check is needed: a
        stored message belongs to a ticket of its contact, so a new contact has none."""
        row = {
            "company_id": company_id,
            "number": number,
            "name": name,
            "is_group": is_group,
            "language": None if is_group else language_of_number(number),
        }
        created = await insert(Contact, [row], skip_conflicts=True)
        if created:
            return created[0]
        return await Contact.get(company_id=company_id, number=number)

    async def _active_ticket(
        self,
        company_id: int,
        contact_id: int,
        connection_id: int,
        text: str,
        redelivered: _Check,
        latest: Ticket | None,
    ) -> Ticket | None:
        """The contact's active ticket on the connection; else the closed one still awaiting
        its rating, if this answers it (a rating, or a first invalid answer, which the CSAT
        flow asks again once); else a new ticket in the bot (None for a
        redelivery, which must neither lapse a question nor open a ticket). `latest` is the
        contact's latest ticket on the connection, as read with the contact."""
        if latest is not None and latest.status in ACTIVE_STATUSES:
            return latest
        if await redelivered():
            return None
        if latest is not None and lifecycle.awaiting_rating(latest):
            if answers_question(latest.flow_state, text):
                return latest
            # Asked again already: this is a new conversation, and the question lapses.
            await self._expire_rating(latest)
        flow_state: dict[str, Any] = {}
        if latest is not None and latest.user_id is None and OUT_OF_HOURS_SLOT in latest.flow_state:  # type: ignore[attr-defined]
            # Closed by the bot out of hours: the customer was told once for this closed window.
            flow_state[OUT_OF_HOURS_SLOT] = latest.flow_state[OUT_OF_HOURS_SLOT]
        return await self._new_ticket(
            company_id=company_id,
            contact_id=contact_id,
            connection_id=connection_id,
            status=TicketStatus.bot,
            flow_state=flow_state,
        )

    async def _expire_rating(self, ticket: Ticket) -> None:
        async with transaction_with_events(self._broker) as batch:
            change = lifecycle.expire_rating(ticket, by=CUSTOMER, now=self._clock())
            if change is not None:
                await update(ticket, ["flow_state"])
                await record([change], batch)

    async def process_ticket(self, ticket_id: int) -> None:
        """Run every unprocessed inbound message of the ticket, oldest first."""
        await self._process(ticket_id, None)

    async def _process(self, ticket_id: int, stored: _Stored | None) -> None:
        async with self._locks(ticket_id):
            # Before the replies are committed, so that the sender can tell whether anybody
            # else could have sent them meanwhile.
            mark = self._sender.mark()
            replies: list[Message] = []
            try:
                async with transaction_with_events(self._broker) as batch:
                    number = await self._run(ticket_id, stored, batch, replies)
            except BaseException:
                self._sender.release(replies)  # held for a send that will not come
                raise
            if replies:
                await self._sender.send_stored(replies, number=number, mark=mark)

    async def _run(
        self, ticket_id: int, stored: _Stored | None, batch: EventBatch, replies: list[Message]
    ) -> str:
        """The ticket's unprocessed messages through the bot, in the caller's transaction;
        the customer's number. The replies stored go to `replies`, held for sending after
        the commit."""
        now = self._clock()
        ticket, inbound = await _lock_and_claim(ticket_id, now)
        if ticket is None or not inbound:
            return ""
        before = _processed_values(ticket)
        was = ticket_audience(ticket)
        contact_id: int = ticket.contact_id  # type: ignore[attr-defined]
        if stored is not None and stored.contact.id == contact_id:
            # Read just now by persist, and only processing (under this ticket's lock)
            # changes what the bot reads of it.
            contact = stored.contact
        else:
            contact = await Contact.get(id=contact_id)
        unit = _Unit(
            ticket=ticket,
            contact=contact,
            batch=batch,
            now=now,
            connection=stored.connection if stored is not None else None,
            campaign_recent=stored.campaign_recent if stored is not None else True,
        )
        for message in inbound:
            await self._process_one(unit, message)
        changed = [
            name for name, value in _processed_values(ticket).items() if before[name] != value
        ]
        stored_replies, lines = await _store(ticket, changed, unit.pending, unit.changes)
        replies.extend(stored_replies)
        self._sender.hold(stored_replies)
        await self._announce(unit, changed, lines, was)
        return contact.number

    async def _announce(
        self, unit: _Unit, changed: list[str], lines: list[TicketEvent], was: dict[str, Any]
    ) -> None:
        """The unit's history lines, and the whole ticket when what the inbox shows of it
        changed beyond its last message and unread count (message.created says those)."""
        ticket = unit.ticket
        if lines:
            config = await self._bot_config(ticket.connection_id, unit.connection)  # type: ignore[attr-defined]
            names = {queue.id: queue.name for queue in config.queues}
            audience = ticket_audience(ticket)
            for line in await history_out(lines, queue_names=names):
                TICKET_HISTORY.add(unit.batch, line, audience=audience)
        if not _SHOWN.isdisjoint(changed):
            await announce_ticket(ticket, unit.batch, was=was, contact=unit.contact)

    async def _bot_config(self, connection_id: int, known: ConnectionInfo | None) -> BotConfig:
        connection = known if known is not None and known.id == connection_id else None
        connection = connection or await self._configs.connection(connection_id)
        if connection is None:  # deleted meanwhile: read as before, which says so
            return await bot_config_for(connection_id=connection_id)
        return await self._configs.config(connection)

    async def _process_one(self, unit: _Unit, message: Message) -> None:
        """One claimed message (marked processed already) through the bot; its replies and
        history lines go to the unit, to be stored with the ticket."""
        ticket, contact, now, batch = unit.ticket, unit.contact, unit.now, unit.batch
        audience = ticket_audience(ticket)
        ticket.unread_count += 1
        ticket.last_message = _preview(message)
        ticket.last_message_at = message.created_at
        batch.add(MESSAGE_CREATED.name, _message_data(message), audience=audience)
        # Closed tickets only hear a rating; opt-out/in works in every other status (the
        # routers of the bot's own steps filter on the `bot` status themselves). The bot
        # never talks in a group.
        if contact.is_group or (
            ticket.status is TicketStatus.closed and not lifecycle.awaiting_rating(ticket)
        ):
            return
        if _is_fresh(ticket) and unit.campaign_recent:
            answer = await campaign_answered(
                connection_id=ticket.connection_id,  # type: ignore[attr-defined]
                contact_id=contact.id,
                now=now,
            )
            if answer.campaign_id is not None:
                ticket.campaign_id = answer.campaign_id
            if answer.confirmed:
                # The answer to a campaign's "may we send?": the campaign sends its message
                # next, and the bot does not greet over it (the answer is kept, and the
                # customer's next message starts the bot as usual).
                return
        config = await self._bot_config(ticket.connection_id, unit.connection)  # type: ignore[attr-defined]
        config = config.speaking(contact.language)
        conversation = await conversation_for(ticket, contact=contact, now=now)
        result = await run_flow(
            text=message.body,
            state=dict(ticket.flow_state),
            config=config,
            conversation=conversation,
            router=self._router,
        )
        if await _apply(ticket, contact, result, text=message.body, now=now, changes=unit.changes):
            await contact_updated(contact, batch)
        # Sent right after the commit by this process: stored with the send's intent.
        intent = now if self._sender.sends_here(ticket.connection_id) else None  # type: ignore[attr-defined]
        for text in result.messages:
            row = {
                "company_id": ticket.company_id,  # type: ignore[attr-defined]
                "ticket_id": ticket.id,
                "connection_id": ticket.connection_id,  # type: ignore[attr-defined]
                "direction": Direction.outbound,
                "body": text,
                "from_bot": True,
                "status": MessageStatus.pending,
                "processed_at": now,
                "send_started_at": intent,
            }
            # In its place among the events; its data once it is stored.
            event = batch.add(MESSAGE_CREATED.name, {}, audience=audience)
            unit.pending.append(_Reply(row, event))


@dataclass
class _Unit:
    """One ticket's processing: what it read, and what it will store and publish."""

    ticket: Ticket
    contact: Contact
    batch: EventBatch
    now: datetime
    connection: ConnectionInfo | None
    campaign_recent: bool
    pending: list[_Reply] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class _Reply:
    """A bot's reply to store: its row, and its `message.created` event to fill in."""

    row: dict[str, Any]
    event: dict[str, Any]


async def _store(
    ticket: Ticket, changed: list[str], pending: list[_Reply], changes: list[Change]
) -> tuple[list[Message], list[TicketEvent]]:
    """Write the ticket's changed columns, its history lines and the replies (one statement
    on Postgres when there are replies); the replies and the lines, in order."""
    rows = [reply.row for reply in pending]
    history = [change.row() for change in changes]
    if rows and changed and is_postgres():
        along = [update_statement(ticket, changed)]
        if history:
            along.append(insert_statement(TicketEvent, history))
        replies, ids = await insert_along(Message, rows, along)
        lines = (
            [TicketEvent(id=id_, **row) for id_, row in zip(ids[0], history, strict=True)]
            if history
            else []
        )
    else:
        replies, lines = await insert(Message, rows), await insert(TicketEvent, history)
        if changed:
            await update(ticket, changed)
    for reply, stored in zip(pending, replies, strict=True):
        reply.event["data"] = _message_data(stored)
    return replies, lines


@functools.cache
def _first_message_sql(contact: tuple[str, str], ticket: tuple[str, str], message: str) -> str:
    k = ", ".join(f'k."{c}" AS k_{c}' for c in _columns(Contact))
    t = ", ".join(f't."{c}" AS t_{c}' for c in _columns(Ticket))
    return (
        f"WITH k AS (INSERT INTO contacts ({contact[0]}) SELECT {contact[1]}"
        " ON CONFLICT DO NOTHING RETURNING *),"
        f" t AS (INSERT INTO tickets ({ticket[0]}) SELECT {ticket[1]} FROM k"
        " ON CONFLICT DO NOTHING RETURNING *),"
        f" m AS (INSERT INTO messages {message} FROM t ON CONFLICT DO NOTHING RETURNING id)"
        f" SELECT {k}, {t}, (SELECT id FROM m) AS m_id FROM k LEFT JOIN t ON true"
    )


async def _first_message(
    inbound: InboundMessage, *, company_id: int, number: str
) -> tuple[Contact, Ticket, int] | None:
    """Postgres: a new customer's contact, its ticket in the bot and its first message, in
    one statement; None when the contact was made meanwhile (by another message of theirs:
    the caller goes the long way)."""
    contact = {
        "company_id": company_id,
        "number": number,
        "name": inbound.push_name,
        "language": language_of_number(number),
    }
    k_columns, k_select, k_values = insert_select(Contact, contact, {})
    ticket = {
        "company_id": company_id,
        "connection_id": inbound.connection_id,
        "status": TicketStatus.bot,
        "flow_state": {},
    }
    t_columns, t_select, t_values = insert_select(Ticket, ticket, {"contact_id": "k.id"})
    message = {"company_id": company_id, **_inbound_row(inbound, inbound.text)}
    m_columns, m_select, m_values = insert_select(Message, message, {"ticket_id": "t.id"})
    sql = _first_message_sql(
        (k_columns, k_select), (t_columns, t_select), f"({m_columns}) SELECT {m_select}"
    )
    rows = await fetch(sql, *k_values, *t_values, *m_values)
    if not rows or rows[0]["m_id"] is None:
        return None
    made = _prefixed(Contact, rows[0], "k_")
    opened = _prefixed(Ticket, rows[0], "t_")
    if made is None or opened is None:
        return None
    return made, opened, int(rows[0]["m_id"])


async def _lock_and_claim(ticket_id: int, now: datetime) -> tuple[Ticket | None, list[Message]]:
    """The ticket, locked for this transaction, and its unprocessed inbound messages in
    order, marked processed at `now`; (None, []) when the ticket is gone."""
    if is_postgres():
        rows = await fetch(_lock_and_claim_sql(), ticket_id, now)
        if not rows:
            return None, []
        ticket = _prefixed(Ticket, rows[0], "t_")
        claimed = [_prefixed(Message, row, "m_") for row in rows]
        inbound = [message for message in claimed if message is not None]
    else:
        ticket = await _first(Ticket, _LOCK_TICKET_SQL, ticket_id)
        if ticket is None:
            return None, []
        inbound = await _fetch(Message, _CLAIM_SQL, now, ticket_id)
    return ticket, sorted(inbound, key=lambda message: message.id)


def _inbound_row(inbound: InboundMessage, body: str) -> dict[str, Any]:
    """A customer's (or group's) message as stored, but for its company and ticket."""
    return {
        "connection_id": inbound.connection_id,
        "direction": Direction.inbound,
        "body": body,
        "channel_message_id": inbound.channel_message_id,
        "quoted_channel_id": inbound.quoted_id,
        "status": MessageStatus.delivered,
        "created_at": inbound.timestamp,
        **media_fields(inbound.media),
    }


def _is_fresh(ticket: Ticket) -> bool:
    """A bot ticket the bot has not spoken in yet (the conversation's first message)."""
    return ticket.status is TicketStatus.bot and set(ticket.flow_state) <= {OUT_OF_HOURS_SLOT}


async def _apply(
    ticket: Ticket,
    contact: Contact,
    result: FlowResult,
    *,
    text: str,
    now: datetime,
    changes: list[Change],
) -> bool:
    """What the flow asked for, done to the ticket through its lifecycle (saved by the
    caller, with the history lines added to `changes`) and to the contact; whether the
    contact changed."""
    ticket.flow_state = result.state
    contact_changed = False
    for event in result.events:
        if is_event(event, HANDOFF):
            changes.append(lifecycle.hand_off(ticket, queue_id=event["queue_id"], by=BOT, now=now))
        elif is_event(event, SET_QUEUE):
            lifecycle.set_queue(ticket, queue_id=event["queue_id"])
        elif is_event(event, CLOSE_TICKET):
            changes.append(lifecycle.close(ticket, by=BOT, reason=event["reason"], now=now))
        elif is_event(event, RATE_TICKET):
            changes.append(lifecycle.rate(ticket, rating=event["rating"], now=now))
        elif is_event(event, OPT_OUT) or is_event(event, OPT_IN):
            keyword = f'keyword "{text.strip()[:60]}"'
            if set_opted_out(contact, is_event(event, OPT_OUT), now, None, keyword):
                await contact.save(
                    update_fields=["opted_out", "opted_out_at", "opted_out_reason", "updated_at"]
                )
                contact_changed = True
    return contact_changed


async def _not_redelivered() -> bool:
    return False


def _processed_values(ticket: Ticket) -> dict[str, Any]:
    """The ticket's columns that processing may change, as they are now (flow_state copied:
    the flow replaces it, but an in-place change must show too)."""
    values = {name: getattr(ticket, name) for name in _PROCESSED_FIELDS}
    values["flow_state"] = repr(values["flow_state"])
    return values


def _message_data(message: Message) -> dict[str, Any]:
    return message_out(message).model_dump(mode="json")


def _preview(message: Message) -> str:
    """What the inbox shows as a ticket's last message: its text, else what kind of file."""
    return message.body[:500] or (f"[{message.media_type}]" if message.media_type else "")


def _group_body(inbound: InboundMessage, text: str) -> str:
    """A group message as agents read it: who wrote it, then what they wrote."""
    return f"{inbound.push_name or inbound.sender}: {text}"
