"""A model's rows written as the ORM would write them (its defaults, its conversions, its
auto_now columns), in statements built once per model and shape: for the hot path (the
inbound stores, the ticket history), where the ORM's building the same SQL anew for every
call costs more CPU than the round trip itself.

Each statement comes with its values by `:name` (service.sql's one placeholder style); a
`prefix` keeps the names of several statements apart when they are written as one (a WITH)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise import timezone
from tortoise.fields import DatetimeField, Field
from tortoise.models import Model

from service.sql.raw import fetch

__all__ = ["Statement", "insert", "insert_select", "insert_statement", "update_statement"]

M = TypeVar("M", bound=Model)

# A statement and its values by name.
Statement = tuple[str, dict[str, Any]]


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


def _values(
    model: type[Model],
    columns: Sequence[_Column],
    row: Mapping[str, Any],
    now: datetime,
    prefix: str,
    into: dict[str, Any],
) -> None:
    for c in columns:
        into[prefix + c.column] = _db_value(c, _value(c, row, now), model)


@functools.cache
def _insert_sql(model: type[Model], count: int, skip_conflicts: bool, prefix: str) -> str:
    columns = _columns(model)
    names = ", ".join(f'"{c.column}"' for c in columns)
    rows = ", ".join(
        "(" + ", ".join(f":{prefix}r{i}_{c.column}" for c in columns) + ")" for i in range(count)
    )
    conflicts = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    return f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {rows}{conflicts}'


def insert_statement(
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: str = "id",
    prefix: str = "",
) -> Statement:
    """One statement inserting the rows (of the model's fields; the others get their
    defaults, as the ORM gives them), returning the ids (or `returning`). `skip_conflicts`:
    a row that would break a unique constraint is not stored (and not returned) instead of
    failing the statement."""
    now = timezone.now()
    columns = _columns(model)
    values: dict[str, Any] = {}
    for i, row in enumerate(rows):
        _values(model, columns, row, now, f"{prefix}r{i}_", values)
    sql = _insert_sql(model, len(rows), skip_conflicts, prefix)
    return f"{sql} RETURNING {returning}", values


async def insert(
    model: type[M], rows: Sequence[Mapping[str, Any]], *, skip_conflicts: bool = False
) -> list[M]:
    """Insert the rows in one statement on the current connection; the rows stored, by id."""
    if not rows:
        return []
    sql, values = insert_statement(model, rows, skip_conflicts=skip_conflicts, returning="*")
    instances = [model._init_from_db(**row) for row in await fetch(sql, **values)]
    return sorted(instances, key=lambda instance: instance.pk)


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...], prefix: str) -> str:
    projection = model._meta.fields_db_projection
    assignments = ", ".join(f'"{projection[n]}" = :{prefix}{projection[n]}' for n in names)
    table, pk = model._meta.db_table, model._meta.db_pk_column
    return f'UPDATE "{table}" SET {assignments} WHERE "{pk}" = :{prefix}pk'


@functools.cache
def _by_name(model: type[Model]) -> dict[str, _Column]:
    return {c.name: c for c in _columns(model)}


@functools.cache
def _auto_now(model: type[Model]) -> tuple[str, ...]:
    return tuple(c.name for c in _columns(model) if c.stamp and c.field.auto_now)  # type: ignore[attr-defined]


def update_statement(instance: Model, names: Sequence[str], *, prefix: str = "") -> Statement:
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
    values = {
        prefix + columns[n].column: _db_value(columns[n], getattr(instance, n), model)
        for n in names
    }
    values[f"{prefix}pk"] = instance.pk
    return _update_sql(model, tuple(names), prefix), values


@functools.cache
def _insert_select(
    model: type[Model], given: tuple[tuple[str, str], ...], prefix: str
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
            select.append(f":{prefix}{column.column}::{_LENGTH.sub('', sql_type)}")
            parameters.append(column)
    return ", ".join(names), ", ".join(select), tuple(parameters)


_LENGTH = re.compile(r"\(.*\)")


def insert_select(
    model: type[Model], row: Mapping[str, Any], given: Mapping[str, str], *, prefix: str
) -> tuple[str, str, dict[str, Any]]:
    """The parts of an `INSERT INTO table (columns) SELECT values FROM …` of one row
    (Postgres): the column list, the select list (the `given` columns as those SQL
    expressions, the others as `:prefix…` parameters) and their values, defaults included."""
    columns, select, parameters = _insert_select(model, tuple(sorted(given.items())), prefix)
    values: dict[str, Any] = {}
    _values(model, parameters, row, timezone.now(), prefix, values)
    return columns, select, values
