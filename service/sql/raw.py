"""Raw SQL on the default Tortoise connection, with the few dialect differences in one place.

A statement's text is turned into the dialect's placeholders once (`compiled`, cached by
text): each run then only picks its values by name."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from service.sql.binding import placeholders, sqlite_value

__all__ = ["Sql", "compiled", "execute", "fetch", "is_postgres", "values_of"]


def _same(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=4096)
def compiled(sql: str, postgres: bool) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `:name` markers as the dialect's placeholders, and the name each
    placeholder takes, in order. A trailing ` FOR UPDATE` is Postgres's only."""
    if not postgres:
        sql = sql.removesuffix(" FOR UPDATE")
    text, names = placeholders(sql, postgres=postgres)
    return text, tuple(names)


def values_of(names: Sequence[str], params: Mapping[str, Any], *, postgres: bool) -> list[Any]:
    """The values for a compiled statement's placeholders, as its backend compares them."""
    try:
        if postgres:
            return [params[name] for name in names]
        return [sqlite_value(params[name]) for name in names]
    except KeyError as missing:
        raise KeyError(f"the query needs a parameter :{missing.args[0]}") from None


def _db() -> BaseDBAsyncClient:
    # The "default" connection, or the transaction open on it in this task.
    db: BaseDBAsyncClient = connections.get("default")
    return db


def is_postgres() -> bool:
    """Whether the database is Postgres (else SQLite)."""
    return _db().capabilities.dialect == "postgres"


async def fetch(sql: str, **params: Any) -> list[dict[str, Any]]:
    """The rows the statement returns, as dicts, on the current connection (the
    transaction's, inside one)."""
    db = _db()
    postgres = db.capabilities.dialect == "postgres"
    text, names = compiled(sql, postgres)
    return await db.execute_query_dict(text, values_of(names, params, postgres=postgres))


async def execute(sql: str, **params: Any) -> int:
    """Run a statement that returns no rows; how many rows it changed."""
    db = _db()
    postgres = db.capabilities.dialect == "postgres"
    text, names = compiled(sql, postgres)
    changed, _ = await db.execute_query(text, values_of(names, params, postgres=postgres))
    return int(changed)


class Sql:
    """Raw SQL on the default connection. Parameters are `:name` markers, given to `rows()`
    or `execute()` by name, or made by `param(value)` while a statement is built in parts
    (the markers are bound where they appear, whatever order the parts were built in)."""

    def __init__(self) -> None:
        self.connection = connections.get("default")
        self.dialect: str = self.connection.capabilities.dialect
        self._params: dict[str, Any] = {}

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgres"

    def param(self, value: Any) -> str:
        """A marker for `value`, to write in the statement's text."""
        name = f"p{len(self._params)}"
        self._params[name] = value
        return f":{name}"

    def params(self, values: Sequence[Any]) -> str:
        """Markers for each of `values`, comma-separated (for `IN (...)`)."""
        return ", ".join(self.param(v) for v in values)

    def seconds_between(self, earlier: str, later: str) -> str:
        """SQL for `later - earlier` in seconds (SQLite: to the millisecond only)."""
        if self.dialect == "sqlite":
            return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"

    def differs(self, left: str, right: str) -> str:
        """SQL for `left` and `right` not being the same value, a null equal to a null (only
        Postgres speaks `IS DISTINCT FROM`; SQLite's `IS NOT` means the same)."""
        if self.dialect == "sqlite":
            return f"({left} IS NOT {right})"
        return f"({left} IS DISTINCT FROM {right})"

    def json(self, text: str) -> str:
        """SQL for JSON text as a JSON column's value: Postgres casts it to jsonb, SQLite
        keeps JSON as the text itself."""
        if self.dialect == "sqlite":
            return text
        return f"{text}::jsonb"

    def bind(self, sql: str, **params: Any) -> tuple[str, list[Any]]:
        """The statement in the dialect's placeholders and its values; a list parameter is
        one value (a Postgres array: `= ANY(:ids)`)."""
        text, names = compiled(sql, self.postgres)
        given = {**self._params, **params}
        return text, values_of(names, given, postgres=self.postgres)

    async def rows(self, sql: str, **params: Any) -> list[Sequence[Any]]:
        _, rows = await self.connection.execute_query(*self.bind(sql, **params))
        return [tuple(row) for row in rows]

    async def execute(self, sql: str, **params: Any) -> None:
        await self.connection.execute_query(*self.bind(sql, **params))

    async def execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]], *, names: Sequence[str]
    ) -> None:
        """Run `sql` once for each of `rows` in one executemany (no round trip per row), its
        `:name` markers bound to the row's values, which `names` names in order."""
        if not rows:
            return
        text, order = compiled(sql, self.postgres)
        index = {name: i for i, name in enumerate(names)}
        missing = sorted(set(order) - set(index))
        if missing:
            raise KeyError(f"the rows have no value for :{', :'.join(missing)}")
        positions = [index[name] for name in order]
        convert = _same if self.postgres else sqlite_value
        values = [[convert(row[i]) for i in positions] for row in rows]
        await self.connection.execute_many(text, values)
