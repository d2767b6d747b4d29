"""Raw SQL on either backend, one way: `:name` parameters, bound as the dialect takes them
(`$n` on Postgres, `?` on SQLite), timestamps converted the same way everywhere.

Tortoise's query builder covers most statements; these are for those it cannot say (the
reports' aggregates, a segment's filters, bulk inserts, the notebooks' queries)."""

from service.sql.binding import bind, placeholders, sqlite_value, timestamp
from service.sql.bulk import insert_rows, reserve_ids
from service.sql.raw import Sql

__all__ = [
    "Sql",
    "bind",
    "insert_rows",
    "placeholders",
    "reserve_ids",
    "sqlite_value",
    "timestamp",
]
