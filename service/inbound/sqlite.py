"""The inbound store on SQLite (the embedded default): the shared statements one at a time on
aiosqlite's connection. SQLite writes one transaction at a time and cannot write inside a
WITH, so the fewer-round-trip statements of the Postgres store have no use here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tortoise.connection import get_connection

from service.inbound.common import CLAIM_SQL, SqlStore, customer_of, customer_sql
from service.inbound.store import Customer, Row
from service.sql import compiled, values_of
from service.tickets.models import Message, Ticket

__all__ = ["SqliteStore"]

_LOCK_SQL = "SELECT * FROM tickets WHERE id = :ticket_id"  # the transaction holds SQLite's one lock


class SqliteStore(SqlStore):
    async def _rows(self, sql: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        text, names = compiled(sql, False)
        values = values_of(names, params, postgres=False)
        # The transaction's connection when inside one; rows are sqlite3.Row (a mapping).
        async with get_connection("default").acquire_connection() as connection:
            rows = await connection.execute_fetchall(text, values)
        return list(rows)

    async def customer(
        self, *, connection_id: int, number: str, since: datetime, message: Row
    ) -> Customer | None:
        params = {"since": since, "number": number, "connection_id": connection_id}
        rows = await self._rows(customer_sql(), params)
        return customer_of(connection_id, rows[0], tried=False) if rows else None

    async def lock_and_claim(
        self, ticket_id: int, now: datetime
    ) -> tuple[Ticket | None, list[Message]]:
        found = await self._models(Ticket, _LOCK_SQL, {"ticket_id": ticket_id})
        if not found:
            return None, []
        claimed = await self._models(Message, CLAIM_SQL, {"now": now, "ticket_id": ticket_id})
        return found[0], sorted(claimed, key=lambda message: message.id)
