"""Raw SQL for the reports, on either backend: `:name` parameters, and the few dialect
differences (subtracting timestamps, how SQLite returns a timestamp) in one place."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from tortoise import connections

__all__ = ["Sql", "bind", "timestamp"]

# `:name`, not a Postgres cast (`::date`) nor a time in a literal (`'10:30'`).
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LISTS = (list, tuple, set, frozenset)


def bind(
    sql: str,
    params: dict[str, Any],
    *,
    postgres: bool,
    convert: Callable[[Any], Any],
    arrays: bool = False,
) -> tuple[str, list[Any]]:
    """`sql` with its `:name` parameters as the dialect takes them (`$n` or `?`) and their
    values, each passed through `convert`. A list parameter becomes a list of values, for
    `IN (:ids)` (empty: `NULL`), or with `arrays` one value (a Postgres array); a name
    missing from `params` is a KeyError."""
    values: list[Any] = []
    numbers: dict[str, str] = {}

    def marker(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"the query needs a parameter :{name}")
        if postgres and name in numbers:  # SQLite's `?` are positional: passed again
            return numbers[name]
        value = params[name]
        items = list(value) if isinstance(value, _LISTS) and not arrays else [value]
        if not items:
            return "NULL"
        places = []
        for item in items:
            values.append(convert(item))
            places.append(f"${len(values)}" if postgres else "?")
        numbers[name] = ", ".join(places)
        return numbers[name]

    return _PARAMETER.sub(marker, sql), values


def timestamp(value: Any) -> dt.datetime | None:
    """A timestamp as either backend returns it: an aware datetime (Postgres) or the text
    Tortoise stored (SQLite); always aware, in UTC when the text carries no offset."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Sql:
    """Raw SQL on the default connection, with `:name` parameters in any dialect."""

    def __init__(self) -> None:
        self._connection = connections.get("default")
        self.dialect: str = self._connection.capabilities.dialect

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgres"

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

    def _value(self, value: Any) -> Any:
        # SQLite keeps timestamps as text in Tortoise's format (UTC, "YYYY-MM-DD HH:MM:SS…");
        # compare with the same text.
        if self.dialect == "sqlite" and isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat(" ")
        return value

    async def rows(self, sql: str, **params: Any) -> list[Sequence[Any]]:
        statement, values = bind(
            sql, params, postgres=self.postgres, convert=self._value, arrays=True
        )
        _, rows = await self._connection.execute_query(statement, values)
        return [tuple(row) for row in rows]
