"""A segment's filters compiled to ONE SQL query over the company's contacts.

Only SQL both backends speak is used, except for reading a custom field out of the JSON
column (`->>` on Postgres' jsonb, `json_each` on SQLite), chosen per dialect. Every value
is a bound parameter, custom field keys included. Whatever the filters say, opted-out
contacts and groups never match: campaigns send to what this returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from service.audiences.schemas import FieldCondition, SegmentFilters
from service.sql import Sql

__all__ = ["Compiled", "compile_filters"]


@dataclass
class Compiled:
    """`FROM contacts c WHERE <where>`, the parameters already bound in `sql`."""

    where: str
    sql: Sql
    conditions: list[str] = field(default_factory=list)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _field_text(sql: Sql, key: str) -> str:
    """The custom field's value as text (true/false for booleans), NULL when absent."""
    if sql.dialect == "sqlite":
        return (
            "(SELECT CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            "WHEN 'null' THEN NULL ELSE CAST(j.value AS TEXT) END "
            f"FROM json_each(c.custom_fields) j WHERE j.key = {sql.param(key)})"
        )
    return f"(c.custom_fields ->> {sql.param(key)})"


def _field_condition(sql: Sql, cond: FieldCondition) -> str:
    value = _field_text(sql, cond.key)
    if cond.op == "is_set":
        return f"COALESCE({value}, '') <> ''"
    if cond.op == "not_set":
        return f"COALESCE({value}, '') = ''"
    assert cond.value is not None  # the schema demands it for equals and contains
    if cond.op == "equals":
        return f"LOWER({value}) = {sql.param(cond.value.lower())}"
    return f"LOWER({value}) LIKE {sql.param(_like_pattern(cond.value))} ESCAPE '\\'"


def _inbound_since(sql: Sql, company_id: int, since: dt.datetime | None) -> str:
    """Ids of the contacts who wrote to us (since `since`, when given)."""
    when = "" if since is None else f" AND m.created_at >= {sql.param(since)}"
    return (
        "SELECT t.contact_id FROM messages m JOIN tickets t ON t.id = m.ticket_id "
        f"WHERE m.company_id = {sql.param(company_id)} AND m.direction = 'in' "
        f"AND m.is_note = {sql.param(False)}{when}"
    )


def compile_filters(filters: SegmentFilters, *, company_id: int, now: dt.datetime) -> Compiled:
    """The WHERE clause (over `contacts c`) of the company's contacts matching `filters`."""
    sql = Sql()
    where = [
        f"c.company_id = {sql.param(company_id)}",
        f"c.opted_out = {sql.param(False)}",
        f"c.is_group = {sql.param(False)}",
    ]
    tags = filters.tags
    if tags is not None:
        if tags.any_of:
            where.append(
                "c.id IN (SELECT ct.contacts_id FROM contact_tags ct "
                f"WHERE ct.tag_id IN ({sql.params(tags.any_of)}))"
            )
        for tag_id in dict.fromkeys(tags.all_of):
            where.append(
                "c.id IN (SELECT ct.contacts_id FROM contact_tags ct "
                f"WHERE ct.tag_id = {sql.param(tag_id)})"
            )
        if tags.none_of:
            where.append(
                "c.id NOT IN (SELECT ct.contacts_id FROM contact_tags ct "
                f"WHERE ct.tag_id IN ({sql.params(tags.none_of)}))"
            )
    for cond in filters.custom_fields:
        where.append(_field_condition(sql, cond))
    last = filters.last_inbound
    if last is not None:
        if last.op == "never":
            where.append(f"c.id NOT IN ({_inbound_since(sql, company_id, None)})")
        else:
            assert last.days is not None
            recent = _inbound_since(sql, company_id, now - dt.timedelta(days=last.days))
            if last.op == "within":
                where.append(f"c.id IN ({recent})")
            else:  # wrote to us once, but not in the last N days
                where.append(f"c.id IN ({_inbound_since(sql, company_id, None)})")
                where.append(f"c.id NOT IN ({recent})")
    if filters.tickets_min is not None or filters.tickets_max is not None:
        count = "(SELECT COUNT(*) FROM tickets t WHERE t.contact_id = c.id)"
        if filters.tickets_min is not None:
            where.append(f"{count} >= {sql.param(filters.tickets_min)}")
        if filters.tickets_max is not None:
            where.append(f"{count} <= {sql.param(filters.tickets_max)}")
    if filters.queue_ids:
        where.append(
            "c.id IN (SELECT t.contact_id FROM tickets t "
            f"WHERE t.company_id = {sql.param(company_id)} "
            f"AND t.queue_id IN ({sql.params(filters.queue_ids)}))"
        )
    rating = filters.rating
    if rating is not None and (rating.min is not None or rating.max is not None):
        if rating.of == "average":
            value = (
                "(SELECT AVG(CAST(t.rating AS REAL)) FROM tickets t "
                "WHERE t.contact_id = c.id AND t.rating IS NOT NULL)"
            )
        else:
            value = (
                "CAST((SELECT t.rating FROM tickets t WHERE t.contact_id = c.id "
                "AND t.rating IS NOT NULL ORDER BY t.id DESC LIMIT 1) AS REAL)"
            )
        if rating.min is not None:
            where.append(f"{value} >= {sql.param(rating.min)}")
        if rating.max is not None:
            where.append(f"{value} <= {sql.param(rating.max)}")
    if filters.created_from is not None:
        where.append(f"c.created_at >= {sql.param(_day_start(filters.created_from))}")
    if filters.created_to is not None:
        end = _day_start(filters.created_to + dt.timedelta(days=1))
        where.append(f"c.created_at < {sql.param(end)}")
    return Compiled(where=" AND ".join(where), sql=sql, conditions=where)
