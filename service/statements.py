"""Hand-written statements for the hot path (the inbound pipeline, sends, receipts), in
either dialect: the ORM builds the same SQL anew for every call, which on the hot path costs
more CPU than the round trip itself.

Statements are written with `?` for each parameter (SQLite's style) and turned into `$1,
$2, …` for Postgres once per statement; a trailing ` FOR UPDATE` is Postgres's only. They
run on the current transaction's connection if there is one, as the ORM's queries do.

`insert` and `update_statement` write a model's rows as the ORM would (its defaults, its
conversions, its auto_now columns), from SQL built once per model and shape."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.fields import DatetimeField, Field
from tortoise.models import Model

__all__ = [
    "Statement",
    "execute",
    "fetch",
    "in_dialect",
    "insert",
    "insert_select",
    "insert_statement",
    "is_postgres",
    "update_statement",
]

M = TypeVar("M", bound=Model)

_PARAMETER = re.compile(r"\?")


def _db() -> BaseDBAsyncClient:
    # The "default" connection, or the transaction open on it in this task.
    return get_connection("default")


def is_postgres() -> bool:
    """Whether the database is Postgres (else SQLite)."""
    return _db().capabilities.dialect == "postgres"


@functools.cache
def in_dialect(sql: str, postgres: bool) -> str:
    """`sql` as the database takes it."""
    if not postgres:
        return sql.removesuffix(" FOR UPDATE")
    numbers = itertools.count(1)
    return _PARAMETER.sub(lambda _: f"${next(numbers)}", sql)


async def fetch(sql: str, *values: Any) -> list[dict[str, Any]]:
    """The rows the statement returns, as dicts."""
    db = _db()
    postgres = db.capabilities.dialect == "postgres"
    return await db.execute_query_dict(in_dialect(sql, postgres), list(values))


async def execute(sql: str, *values: Any) -> int:
    """Run a statement that returns no rows; how many rows it changed."""
    db = _db()
    postgres = db.capabilities.dialect == "postgres"
    changed, _ = await db.execute_query(in_dialect(sql, postgres), list(values))
    return changed


@dataclass(frozen=True)
class _Column:
    name: str  # the model's field (a relation's `…_id`)
    column: str
    field: Field[Any]
    stamp: bool  # auto_now / auto_now_add: now when not given
    default: Any
    is_datetime: bool


@functools.cache
def _columns(model: type[Model]) -> tuple[_Column, ...]:
    """The columns an insert writes: every one but a generated primary key."""
    meta = model._meta
    columns = []
    for name, column in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if field.generated:
            continue
        is_datetime = isinstance(field, DatetimeField)
        stamp = is_datetime and bool(field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]
        columns.append(_Column(name, column, field, stamp, field.default, is_datetime))
    return tuple(columns)


def _db_value(column: _Column, value: Any, model: type[Model]) -> Any:
    if value is None or column.is_datetime:
        return value  # aware datetimes, as the ORM passes them
    return column.field.to_db_value(value, model)


def _value(column: _Column, values: Mapping[str, Any], now: datetime) -> Any:
    if column.name in values:
        return values[column.name]
    if column.stamp:
        return now
    default = column.default
    return default() if callable(default) else default


@functools.cache
def _insert_sql(model: type[Model], count: int, skip_conflicts: bool) -> str:
    columns = _columns(model)
    names = ", ".join(f'"{c.column}"' for c in columns)
    row = "(" + ", ".join("?" for _ in columns) + ")"
    conflicts = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    rows = ", ".join([row] * count)
    return f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {rows}{conflicts}'


Statement = tuple[str, list[Any]]


async def insert(
    model: type[M], rows: Sequence[Mapping[str, Any]], *, skip_conflicts: bool = False
) -> list[M]:
    """Insert rows of the model's fields (the others get their defaults, as the ORM gives
    them) in one statement; the rows stored, by id. `skip_conflicts`: a row that would break
    a unique constraint is not stored (and not returned) instead of failing the statement."""
    if not rows:
        return []
    sql, values = insert_statement(model, rows, skip_conflicts=skip_conflicts, returning="*")
    return _instances(model, await fetch(sql, *values))


def _instances(model: type[M], rows: list[dict[str, Any]]) -> list[M]:
    instances = [model._init_from_db(**row) for row in rows]
    return sorted(instances, key=lambda instance: instance.pk)


def insert_statement(
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: str = "id",
) -> Statement:
    """The statement `insert` runs, returning the ids (or `returning`): for a statement that
    writes it together with others (service.inbound.postgres)."""
    now = timezone.now()
    columns = _columns(model)
    values = [_db_value(c, _value(c, row, now), model) for row in rows for c in columns]
    sql = _insert_sql(model, len(rows), skip_conflicts)
    return f"{sql} RETURNING {returning}", values


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    projection = model._meta.fields_db_projection
    assignments = ", ".join(f'"{projection[name]}" = ?' for name in names)
    return (
        f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE "{model._meta.db_pk_column}" = ?'
    )


@functools.cache
def _by_name(model: type[Model]) -> dict[str, _Column]:
    return {c.name: c for c in _columns(model)}


@functools.cache
def _auto_now(model: type[Model]) -> tuple[str, ...]:
    return tuple(c.name for c in _columns(model) if c.stamp and c.field.auto_now)  # type: ignore[attr-defined]


def update_statement(instance: Model, names: Sequence[str]) -> Statement:
    """The statement that writes these fields of the instance by its id, and its auto_now
    ones, set to now here (as the ORM's `save(update_fields=…)` does)."""
    model = type(instance)
    now = timezone.now()
    names = list(names)
    for name in _auto_now(model):
        setattr(instance, name, now)
        if name not in names:
            names.append(name)
    columns = _by_name(model)
    values = [_db_value(columns[n], getattr(instance, n), model) for n in names]
    return _update_sql(model, tuple(names)), [*values, instance.pk]


@functools.cache
def _insert_select(
    model: type[Model], given: tuple[tuple[str, str], ...]
) -> tuple[str, str, tuple[_Column, ...]]:
    expressions = dict(given)
    names, select, parameters = [], [], []
    for column in _columns(model):
        names.append(f'"{column.column}"')
        if column.name in expressions:
            select.append(expressions[column.name])
        else:
            # Typed: a parameter in a select list has no column to take its type from. No
            # length (`VARCHAR(3)` would cut a longer value instead of refusing it).
            sql_type = column.field.get_for_dialect("postgres", "SQL_TYPE")
            select.append(f"?::{_LENGTH.sub('', sql_type)}")
            parameters.append(column)
    return ", ".join(names), ", ".join(select), tuple(parameters)


_LENGTH = re.compile(r"\(.*\)")


def insert_select(
    model: type[Model], row: Mapping[str, Any], given: Mapping[str, str]
) -> tuple[str, str, list[Any]]:
    """The parts of an `INSERT INTO table (columns) SELECT values FROM …` of one row
    (Postgres): the column list, the select list (the `given` columns as those SQL
    expressions, the others as parameters) and the parameters' values, defaults included."""
    columns, select, parameters = _insert_select(model, tuple(sorted(given.items())))
    now = timezone.now()
    return columns, select, [_db_value(c, _value(c, row, now), model) for c in parameters]
