"""`:name` parameters to the dialect's placeholders, and values to what each backend compares."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

__all__ = ["bind", "placeholders", "sqlite_value", "timestamp"]

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


def placeholders(sql: str, *, postgres: bool) -> tuple[str, list[str]]:
    """`sql` with its `:name` markers as the dialect's placeholders, and the name of the value
    each placeholder takes, in order: for a statement run once per row (an executemany),
    whose values are only known row by row."""
    # Bound to their own names, the values come out as the names, in placeholder order.
    names = {name: name for name in _PARAMETER.findall(sql)}
    return bind(sql, names, postgres=postgres, convert=str)


def sqlite_value(value: Any) -> Any:
    """A parameter as SQLite compares it: Tortoise keeps timestamps there as ISO text in UTC
    ("YYYY-MM-DD HH:MM:SS…"), so a datetime becomes the same text (a naive one, whose zone
    nobody knows, is refused); a date its ISO text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime ({value}) as a query parameter: give a time zone")
        return value.astimezone(dt.UTC).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def timestamp(value: Any) -> dt.datetime | None:
    """A timestamp as either backend returns it: an aware datetime (Postgres) or the text
    Tortoise stored (SQLite); always aware, in UTC when the text carries no offset."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
