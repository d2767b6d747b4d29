"""Raw SQL on either backend, one way: `:name` parameters, bound as the dialect takes them
(`$n` on Postgres, `?` on SQLite), timestamps converted the same way everywhere.

Tortoise's query builder covers most statements; these are for those it cannot say (the
reports' aggregates, a segment's filters, bulk inserts, the notebooks' queries) and for the
hot path (the inbound stores, sends, receipts), where building SQL per call costs more than
the round trip: `models` writes a model's rows as the ORM would, from statements built once."""

from service.sql.binding import bind, placeholders, sqlite_value, timestamp
from service.sql.bulk import insert_rows, reserve_ids
from service.sql.models import Statement, insert, insert_select, insert_statement, update_statement
from service.sql.raw import Sql, compiled, execute, fetch, is_postgres, values_of

__all__ = [
    "Sql",
    "Statement",
    "bind",
    "compiled",
    "execute",
    "fetch",
    "insert",
    "insert_rows",
    "insert_select",
    "insert_statement",
    "is_postgres",
    "placeholders",
    "reserve_ids",
    "sqlite_value",
    "timestamp",
    "update_statement",
    "values_of",
]
