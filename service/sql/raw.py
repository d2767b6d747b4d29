"""Raw SQL on the default Tortoise connection, with the few dialect differences in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections

from service.sql.binding import bind, placeholders, sqlite_value

__all__ = ["Sql"]


def _same(value: Any) -> Any:
    return value


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
        convert = _same if self.postgres else sqlite_value
        given = {**self._params, **params}
        return bind(sql, given, postgres=self.postgres, convert=convert, arrays=True)

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
        text, order = placeholders(sql, postgres=self.postgres)
        index = {name: i for i, name in enumerate(names)}
        missing = sorted(set(order) - set(index))
        if missing:
            raise KeyError(f"the rows have no value for :{', :'.join(missing)}")
        positions = [index[name] for name in order]
        convert = _same if self.postgres else sqlite_value
        values = [[convert(row[i]) for i in positions] for row in rows]
        await self.connection.execute_many(text, values)
