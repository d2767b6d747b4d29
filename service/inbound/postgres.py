"""The inbound store on Postgres: asyncpg's connection directly (its prepared-statement cache
keeps each statement parsed once per connection), and each step in one round trip.

- `customer` reads the connection, the contact and its latest ticket and stores the message
  on that ticket when it is active (the common case: a conversation going on), returning
  the ticket's row version (`xmin`, which every committed update of the row changes).
- `first_message` makes a new customer's contact, ticket and message together.
- `save_unlocked` writes a processing unit's result if the ticket's row version is still the
  one read and no older message of it waits: the update of the ticket, the claim of the
  message, the history lines and the replies, each conditional on the one before, so that
  either all of them happen or none. A ticket changed meanwhile (an agent's accept, another
  message) makes it write nothing, and the caller processes under the lock instead.
- `lock_and_claim` locks the ticket and claims its messages in one statement, and `save`
  writes the ticket, its lines and replies in one."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise.connection import get_connection

from service.contacts.models import Contact
from service.flow_config import ConnectionInfo
from service.inbound.common import (
    ACTIVE,
    CLAIM_SQL,
    SqlStore,
    customer_of,
    customer_sql,
    lines_of,
    prefixed,
    selected,
)
from service.inbound.store import Customer, Row, Saved, Stored
from service.sql import compiled, insert_select, insert_statement, update_statement
from service.tickets.models import Message, Ticket, TicketEvent

__all__ = ["PostgresStore"]


@functools.cache
def _message() -> str:
    # Built on first use: the ORM knows a model's relation columns only once it is up.
    return selected(Message, "m", "m_")


def _with(parts: Sequence[tuple[str, str]], select: str) -> str:
    return "WITH " + ", ".join(f"{name} AS ({sql})" for name, sql in parts) + " " + select


@functools.cache
def _storing_sql(names: str, select: str) -> str:
    # A row without `m_id` for an active ticket is a redelivery (the message's unique key).
    return _with(
        [
            ("r", customer_sql(", t.xmin AS t_xmin")),
            (
                "m",
                f"INSERT INTO messages ({names}) SELECT {select} FROM r"
                f" WHERE r.t_status IN ({ACTIVE}) ON CONFLICT DO NOTHING RETURNING *",
            ),
        ],
        f"SELECT r.*, {_message()} FROM r LEFT JOIN m ON true",
    )


@functools.cache
def _first_sql(contact: tuple[str, str], ticket: tuple[str, str], message: tuple[str, str]) -> str:
    return _with(
        [
            (
                "k",
                f"INSERT INTO contacts ({contact[0]}) SELECT {contact[1]}"
                " ON CONFLICT DO NOTHING RETURNING *",
            ),
            (
                "t",
                f"INSERT INTO tickets ({ticket[0]}) SELECT {ticket[1]} FROM k"
                " ON CONFLICT DO NOTHING RETURNING *, xmin AS row_version",
            ),
            (
                "m",
                f"INSERT INTO messages ({message[0]}) SELECT {message[1]} FROM t"
                " ON CONFLICT DO NOTHING RETURNING *",
            ),
        ],
        f"SELECT {selected(Contact, 'k', 'k_')}, {selected(Ticket, 't', 't_')},"
        f" t.row_version AS t_xmin, {_message()} FROM k LEFT JOIN t ON true LEFT JOIN m ON true",
    )


@functools.cache
def _lock_and_claim_sql() -> str:
    # The claim reads after the lock is granted: a message that the lock's previous holder
    # claimed is re-checked on its newest version and skipped.
    claim = CLAIM_SQL.replace("ticket_id = :ticket_id", "ticket_id = (SELECT id FROM t)")
    return _with(
        [("t", "SELECT * FROM tickets WHERE id = :ticket_id FOR UPDATE"), ("m", claim)],
        f"SELECT {selected(Ticket, 't', 't_')}, {_message()} FROM t LEFT JOIN m ON true",
    )


# No older message of the ticket waits: processing this one first would break their order.
_NONE_OLDER_WAITS = (
    " AND NOT EXISTS (SELECT 1 FROM messages w WHERE w.ticket_id = :u_pk"
    " AND w.direction = 'in' AND w.processed_at IS NULL AND w.id < :message_id)"
)
_UNLOCKED_CLAIM = (
    "UPDATE messages SET processed_at = :now WHERE id = :message_id AND processed_at IS NULL"
    " AND EXISTS (SELECT 1 FROM u) RETURNING id"
)


def _typed_rows(
    model: type[Any], rows: Sequence[Row], source: str, prefix: str, into: dict[str, Any]
) -> str:
    """`INSERT … SELECT` of the rows, one `SELECT … FROM source` each: stored only for the
    rows `source` has (one when the statement's condition held, none otherwise)."""
    names, selects = "", []
    for i, row in enumerate(rows):
        names, select, given = insert_select(model, row, {}, prefix=f"{prefix}r{i}_")
        selects.append(f"SELECT {select} FROM {source}")
        into.update(given)
    table = model._meta.db_table
    return f'INSERT INTO "{table}" ({names}) {" UNION ALL ".join(selects)} RETURNING *'


class PostgresStore(SqlStore):
    async def _rows(self, sql: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        text, names = compiled(sql, True)
        values = [params[name] for name in names]
        # The transaction's connection when inside one, else one from the pool.
        async with get_connection("default").acquire_connection() as connection:
            rows: list[Mapping[str, Any]] = await connection.fetch(text, *values)
        return rows

    async def customer(
        self, *, connection_id: int, number: str, since: datetime, message: Row
    ) -> Customer | None:
        names, select, params = insert_select(
            Message, message, {"company_id": "r.c_company_id", "ticket_id": "r.t_id"}, prefix="m_"
        )
        params.update(since=since, number=number, connection_id=connection_id)
        rows = await self._rows(_storing_sql(names, select), params)
        if not rows:
            return None
        row = rows[0]
        found = customer_of(connection_id, row, tried=True)
        stored = prefixed(Message, row, "m_")
        if stored is None or found.contact is None or found.latest is None:
            return found
        kept = Stored(
            message_id=stored.id,
            ticket_id=found.latest.id,
            contact=found.contact,
            connection=found.connection,
            ticket=found.latest,
            message=stored,
            version=int(row["t_xmin"]),
        )
        return Customer(found.connection, found.contact, None, tried=True, stored=kept)

    async def first_message(
        self, *, connection: ConnectionInfo, contact: Row, ticket: Row, message: Row
    ) -> Stored | None:
        k_names, k_select, params = insert_select(Contact, contact, {}, prefix="k_")
        t_names, t_select, t_values = insert_select(
            Ticket, ticket, {"contact_id": "k.id"}, prefix="t_"
        )
        m_names, m_select, m_values = insert_select(
            Message, message, {"ticket_id": "t.id"}, prefix="m_"
        )
        params.update(t_values)
        params.update(m_values)
        sql = _first_sql((k_names, k_select), (t_names, t_select), (m_names, m_select))
        rows = await self._rows(sql, params)
        if not rows:
            return None
        made = prefixed(Contact, rows[0], "k_")
        opened = prefixed(Ticket, rows[0], "t_")
        stored = prefixed(Message, rows[0], "m_")
        if made is None or opened is None or stored is None:
            return None
        # No campaign message went to a contact made just now.
        return Stored(
            message_id=stored.id,
            ticket_id=opened.id,
            contact=made,
            connection=connection,
            campaign_recent=False,
            ticket=opened,
            message=stored,
            version=int(rows[0]["t_xmin"]),
        )

    async def lock_and_claim(
        self, ticket_id: int, now: datetime
    ) -> tuple[Ticket | None, list[Message]]:
        rows = await self._rows(_lock_and_claim_sql(), {"ticket_id": ticket_id, "now": now})
        if not rows:
            return None, []
        claimed = [prefixed(Message, row, "m_") for row in rows]
        inbound = [message for message in claimed if message is not None]
        return prefixed(Ticket, rows[0], "t_"), sorted(inbound, key=lambda m: m.id)

    async def save(
        self, ticket: Ticket, changed: Sequence[str], replies: Sequence[Row], lines: Sequence[Row]
    ) -> Saved:
        parts: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        if changed:
            sql, given = update_statement(ticket, changed, prefix="u_")
            parts.append(("u", sql))
            values.update(given)
        if lines:
            sql, given = insert_statement(TicketEvent, lines, prefix="h")
            parts.append(("h", sql))
            values.update(given)
        if replies:
            sql, given = insert_statement(Message, replies, returning="*", prefix="m")
            parts.append(("m", sql))
            values.update(given)
        if not parts:
            return Saved([], [])
        saved = await self._saved(parts, values, lines, bool(replies))
        assert saved is not None, "only a claim makes nothing saved"
        return saved

    async def save_unlocked(
        self,
        stored: Stored,
        now: datetime,
        changed: Sequence[str],
        replies: Sequence[Row],
        lines: Sequence[Row],
    ) -> Saved | None:
        ticket = stored.ticket
        assert ticket is not None, "an unlocked save of a ticket not read"
        assert stored.version is not None, "an unlocked save without a row version"
        update, values = update_statement(ticket, changed, prefix="u_")
        parts = [("u", f"{update} AND xmin = :version{_NONE_OLDER_WAITS} RETURNING id")]
        values.update(version=stored.version, message_id=stored.message_id, now=now)
        parts.append(("c", _UNLOCKED_CLAIM))
        for name, model, rows in (("h", TicketEvent, lines), ("m", Message, replies)):
            if rows:
                parts.append((name, _typed_rows(model, rows, "c", name, values)))
        return await self._saved(parts, values, lines, bool(replies), claimed=True)

    async def _saved(
        self,
        parts: Sequence[tuple[str, str]],
        values: Mapping[str, Any],
        lines: Sequence[Row],
        replies: bool,
        *,
        claimed: bool = False,
    ) -> Saved | None:
        """Run the parts as one statement; the replies it stored and the lines' ids. With
        `claimed`, None when the claim (part `c`) took nothing."""
        outputs = [
            "(SELECT array_agg(id ORDER BY id) FROM h) AS h_ids" if lines else "NULL AS h_ids"
        ]
        if claimed:
            outputs.append("(SELECT COUNT(*) FROM c) AS claimed")
        select = f"SELECT {', '.join(outputs)}"
        if replies:
            select = f"SELECT {_message()}, {', '.join(outputs)} FROM m"
        rows = await self._rows(_with(parts, select), values)
        if claimed and (not rows or not rows[0]["claimed"]):
            return None
        stored = [prefixed(Message, row, "m_") for row in rows] if replies else []
        messages = sorted((m for m in stored if m is not None), key=lambda m: m.id)
        ids = [int(i) for i in (rows[0]["h_ids"] or [])] if rows and lines else []
        return Saved(messages, lines_of(ids, lines))
