"""Many rows in one statement's executemany, and ids for rows that are written with theirs:
for the writers of thousands of rows at once (the demo history, the contacts import), for
which one ORM object per row would be most of the time."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from service.sql.raw import Sql

__all__ = ["insert_rows", "reserve_ids"]

# Table and column names are written into the statement: only plain identifiers.
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _checked(names: Iterable[str]) -> None:
    for name in names:
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is no plain table or column name")


async def insert_rows(
    *,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    json_columns: Iterable[str] = (),
) -> None:
    """Insert `rows` (each its values in `columns`' order) into `table` on the current
    connection (the transaction's, inside one), in one executemany; a value of one of the
    `json_columns` is JSON text."""
    json_columns = set(json_columns)
    _checked([table, *columns])
    if json_columns - set(columns):
        raise ValueError(f"JSON columns not inserted: {sorted(json_columns - set(columns))}")
    if not rows:
        return
    sql = Sql()
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(sql.json(f":{c}") if c in json_columns else f":{c}" for c in columns)
    statement = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    await sql.execute_many(statement, rows, names=columns)


async def reserve_ids(*, table: str, count: int) -> list[int]:
    """`count` new ids of `table`, increasing, for rows inserted with them. Postgres takes
    them from the table's id sequence (no other writer gets them); SQLite has no sequence:
    they follow the highest id, so reserve and insert in one transaction (SQLite's writers
    take turns)."""
    _checked([table])
    if count <= 0:
        return []
    sql = Sql()
    if sql.postgres:
        rows = await sql.rows(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)",
            table=table,
            count=count,
        )
        return sorted(int(row[0]) for row in rows)
    rows = await sql.rows(f'SELECT MAX(id) FROM "{table}"')
    top = int(rows[0][0] or 0)
    return list(range(top + 1, top + 1 + count))
