"""Raw SQL for the reports, on either backend: `:name` parameters, and the few dialect
differences (subtracting timestamps, how SQLite returns a timestamp) in one place."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from tortoise import connections

__all__ = ["Sql", "timestamp"]

_PARAMETER = re.compile(r"(?<!:):(\w+)")


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

    def _value(self, value: Any) -> Any:
        # SQLite keeps timestamps as text in Tortoise's format (UTC, "YYYY-MM-DD HH:MM:SS…");
        # compare with the same text.
        if self.dialect == "sqlite" and isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat(" ")
        return value

    async def rows(self, sql: str, **params: Any) -> list[Sequence[Any]]:
        values: list[Any] = []
        numbers: dict[str, int] = {}

        def marker(match: re.Match[str]) -> str:
            name = match.group(1)
            if self.dialect == "sqlite":  # positional: a name used twice is passed twice
                values.append(self._value(params[name]))
                return "?"
            if name not in numbers:
                values.append(self._value(params[name]))
                numbers[name] = len(values)
            return f"${numbers[name]}"

        _, rows = await self._connection.execute_query(_PARAMETER.sub(marker, sql), values)
        return [tuple(row) for row in rows]
