"""The statements both stores share, written once with `:name` parameters (service.sql's
style, compiled to the dialect's placeholders once per statement), and how a row becomes a
model.

A store subclass says how a statement runs (`_rows`) and overrides what its database does in
fewer round trips."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from tortoise.models import Model

from service.contacts.models import Contact
from service.flow_config import STAMP_COLUMNS, ConnectionInfo
from service.inbound.store import Customer, Row, Saved, Stored
from service.sql import insert_statement, update_statement
from service.tickets.models import ACTIVE_STATUSES, Message, Ticket, TicketEvent

__all__ = [
    "ACTIVE",
    "CLAIM_SQL",
    "SqlStore",
    "columns",
    "customer_of",
    "customer_sql",
    "lines_of",
    "model_of",
    "prefixed",
    "selected",
]

_M = TypeVar("_M", bound=Model)

# The active statuses, as an SQL list.
ACTIVE = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
_ACTIVE_VALUES = frozenset(status.value for status in ACTIVE_STATUSES)

_CONNECTION_SQL = f"SELECT {STAMP_COLUMNS} FROM connections c WHERE c.id = :connection_id"
_CONTACT_SQL = "SELECT * FROM contacts WHERE company_id = :company_id AND number = :number LIMIT 1"
_ACTIVE_TICKET_SQL = (
    "SELECT * FROM tickets WHERE contact_id = :contact_id AND connection_id = :connection_id"
    f" AND status IN ({ACTIVE}) LIMIT 1"
)
_STORED_SQL = (
    "SELECT 1 FROM messages WHERE connection_id = :connection_id"
    " AND channel_message_id = :channel_message_id LIMIT 1"
)
# Under the ticket's lock: its unprocessed messages, marked processed by the transaction
# that processes them (a rollback leaves them unprocessed, for `recover`).
CLAIM_SQL = (
    "UPDATE messages SET processed_at = :now WHERE ticket_id = :ticket_id AND direction = 'in'"
    " AND processed_at IS NULL RETURNING *"
)
_WAITING_SQL = (
    "SELECT DISTINCT ticket_id FROM messages"
    " WHERE direction = 'in' AND processed_at IS NULL AND is_note = FALSE ORDER BY ticket_id"
)


@functools.cache
def columns(model: type[Model]) -> tuple[str, ...]:
    """The model's columns (asked once the ORM is up: it adds the relations' columns)."""
    return tuple(sorted(model._meta.fields_db_projection.values()))


def selected(model: type[Model], alias: str, prefix: str) -> str:
    """The model's columns of the table aliased `alias`, each named `prefix` + column."""
    return ", ".join(f'{alias}."{c}" AS {prefix}{c}' for c in columns(model))


def model_of(model: type[_M], row: Mapping[str, Any]) -> _M:
    return model._init_from_db(**{c: row[c] for c in columns(model)})


def prefixed(model: type[_M], row: Mapping[str, Any], prefix: str) -> _M | None:
    """The model whose columns the row has under `prefix`; None when the join found none."""
    if row[f"{prefix}id"] is None:
        return None
    return model._init_from_db(**{c: row[prefix + c] for c in columns(model)})


@functools.cache
def customer_sql(extra: str = "") -> str:
    """The connection's stamp, the contact with a number (columns `k_…`), its latest ticket
    on the connection (`t_…`, and `extra`) and whether it may be answering a campaign.
    Parameters: :since, :number, :connection_id."""
    # Whether a new conversation may answer a campaign: a campaign message went to the
    # contact on this connection since `:since` (read only when no conversation is going on).
    campaign = (
        f"CASE WHEN t.status IN ({ACTIVE}) THEN NULL ELSE EXISTS (SELECT 1"
        " FROM campaign_recipients r JOIN campaigns g ON g.id = r.campaign_id"
        " WHERE r.contact_id = k.id AND g.connection_id = c.id AND r.sent_at >= :since)"
        " END AS campaign_recent"
    )
    return (
        f"SELECT {STAMP_COLUMNS}, {selected(Contact, 'k', 'k_')}, {selected(Ticket, 't', 't_')}"
        f"{extra}, {campaign} FROM connections c"
        " LEFT JOIN contacts k ON k.company_id = c.company_id AND k.number = :number"
        " LEFT JOIN tickets t ON t.id = (SELECT MAX(l.id) FROM tickets l"
        " WHERE l.contact_id = k.id AND l.connection_id = c.id)"
        " WHERE c.id = :connection_id"
    )


def customer_of(connection_id: int, row: Mapping[str, Any], *, tried: bool) -> Customer:
    """What `customer_sql` read; `tried`: whether the statement tried to store the message
    on an active latest ticket."""
    campaign_recent = row["campaign_recent"]
    return Customer(
        connection=ConnectionInfo.of_row(connection_id, row),
        contact=prefixed(Contact, row, "k_"),
        latest=prefixed(Ticket, row, "t_"),
        tried=tried and row["t_status"] in _ACTIVE_VALUES,
        stored=None,
        campaign_recent=campaign_recent is None or bool(campaign_recent),
    )


def lines_of(ids: Sequence[int], lines: Sequence[Row]) -> list[TicketEvent]:
    return [TicketEvent(id=id_, **line) for id_, line in zip(ids, lines, strict=True)]


class SqlStore:
    """The statements of service.inbound.store.InboundStore that both databases run alike."""

    async def _rows(self, sql: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    async def _models(self, model: type[_M], sql: str, params: Mapping[str, Any]) -> list[_M]:
        return [model_of(model, row) for row in await self._rows(sql, params)]

    async def _insert(
        self, model: type[_M], rows: Sequence[Row], *, skip_conflicts: bool = True
    ) -> list[_M]:
        """The rows stored, by id; `skip_conflicts`: a row that would break a unique
        constraint is left out instead of failing the statement."""
        if not rows:
            return []
        sql, values = insert_statement(model, rows, skip_conflicts=skip_conflicts, returning="*")
        return sorted(await self._models(model, sql, values), key=lambda m: m.pk)

    async def connection(self, connection_id: int) -> ConnectionInfo | None:
        rows = await self._rows(_CONNECTION_SQL, {"connection_id": connection_id})
        return ConnectionInfo.of_row(connection_id, rows[0]) if rows else None

    async def first_message(
        self, *, connection: ConnectionInfo, contact: Row, ticket: Row, message: Row
    ) -> Stored | None:
        return None

    async def contact(self, company_id: int, number: str) -> Contact | None:
        found = await self._models(
            Contact, _CONTACT_SQL, {"company_id": company_id, "number": number}
        )
        return found[0] if found else None

    async def add_contact(self, row: Row) -> Contact | None:
        made = await self._insert(Contact, [row])
        return made[0] if made else None

    async def add_ticket(self, row: Row) -> Ticket | None:
        made = await self._insert(Ticket, [row])
        return made[0] if made else None

    async def active_ticket(self, contact_id: int, connection_id: int) -> Ticket | None:
        found = await self._models(
            Ticket, _ACTIVE_TICKET_SQL, {"contact_id": contact_id, "connection_id": connection_id}
        )
        return found[0] if found else None

    async def add_message(self, row: Row) -> int | None:
        made = await self._insert(Message, [row])
        return made[0].id if made else None

    async def is_stored(self, connection_id: int, channel_message_id: str) -> bool:
        params = {"connection_id": connection_id, "channel_message_id": channel_message_id}
        return bool(await self._rows(_STORED_SQL, params))

    async def save(
        self, ticket: Ticket, changed: Sequence[str], replies: Sequence[Row], lines: Sequence[Row]
    ) -> Saved:
        """One statement per kind of row (the Postgres store writes them in one)."""
        stored = await self._insert(Message, replies, skip_conflicts=False)
        events = await self._insert(TicketEvent, lines, skip_conflicts=False)
        if changed:
            await self._rows(*update_statement(ticket, changed))
        return Saved(stored, events)

    async def save_unlocked(
        self,
        stored: Stored,
        now: datetime,
        changed: Sequence[str],
        replies: Sequence[Row],
        lines: Sequence[Row],
    ) -> Saved | None:
        return None  # a store without row versions always processes under the lock

    async def waiting_tickets(self) -> list[int]:
        return [int(row["ticket_id"]) for row in await self._rows(_WAITING_SQL, {})]
