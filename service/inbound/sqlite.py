"""The inbound store on SQLite (the embedded default): the shared statements one at a time on
aiosqlite's connection. SQLite writes one transaction at a time and cannot write inside a
WITH, so the fewer-round-trip statements of the Postgres store have no use here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise.connection import get_connection

from service.inbound.common import CLAIM_SQL, SqlStore, customer_of, customer_sql
from service.inbound.store import Customer, Row
from service.tickets.models import Message, Ticket

__all__ = ["SqliteStore"]

_LOCK_SQL = "SELECT * FROM tickets WHERE id = ?"  # the transaction holds SQLite's one lock


class SqliteStore(SqlStore):
    async def _rows(self, sql: str, values: Sequence[Any]) -> list[Mapping[str, Any]]:
        # The transaction's connection when inside one; rows are sqlite3.Row (a mapping).
        async with get_connection("default").acquire_connection() as connection:
            rows = await connection.execute_fetchall(sql, list(values))
        return list(rows)

    async def customer(
        self, *, connection_id: int, number: str, since: datetime, message: Row
    ) -> Customer | None:
        rows = await self._rows(customer_sql(), [since, number, connection_id])
        return customer_of(connection_id, rows[0], tried=False) if rows else None

    async def lock_and_claim(
        self, ticket_id: int, now: datetime
    ) -> tuple[Ticket | None, list[Message]]:
        found = await self._models(Ticket, _LOCK_SQL, [ticket_id])
        if not found:
            return None, []
        claimed = await self._models(Message, CLAIM_SQL, [now, ticket_id])
        return found[0], sorted(claimed, key=lambda message: message.id)
