"""insert_rows and reserve_ids on the session's database, read back through the ORM: the
rows are there with their values (JSON, times, booleans, nulls), inside the caller's
transaction, and the reserved ids are never handed out again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tortoise.transactions import in_transaction

from service.contacts.models import Contact
from service.sql import Sql, insert_rows, placeholders, reserve_ids
from service.tags.models import Tag
from tests.factories import Tenant, unique

CONTACT_COLUMNS = (
    "id", "company_id", "number", "name", "email", "custom_fields", "is_group", "opted_out",
    "opted_out_at", "opted_out_reason", "language", "created_at", "updated_at",
)  # fmt: skip
# 09:30 in São Paulo is 12:30 UTC: a time given in another zone is stored as the same instant.
CREATED = datetime(2026, 3, 10, 9, 30, 15, 250000, tzinfo=ZoneInfo("America/Sao_Paulo"))


def _contact_row(tenant: Tenant, contact_id: int, number: str, **fields: Any) -> tuple[Any, ...]:
    values = {
        "id": contact_id,
        "company_id": tenant.company.id,
        "number": number,
        "name": "Ana",
        "email": None,
        "custom_fields": json.dumps({"city": "Recife", "plano": "500 Mega"}),
        "is_group": False,
        "opted_out": False,
        "opted_out_at": None,
        "opted_out_reason": "",
        "language": None,
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }
    return tuple(values[c] for c in CONTACT_COLUMNS)


def test_placeholders_name_each_value_in_the_dialects_order() -> None:
    sql = "INSERT INTO t (a, b, c) VALUES (:a, :b::jsonb, :a) -- '10:30'"
    assert placeholders(sql, postgres=True) == (
        "INSERT INTO t (a, b, c) VALUES ($1, $2::jsonb, $1) -- '10:30'",
        ["a", "b"],
    )
    assert placeholders(sql, postgres=False) == (
        "INSERT INTO t (a, b, c) VALUES (?, ?::jsonb, ?) -- '10:30'",
        ["a", "b", "a"],
    )


async def test_inserted_rows_read_back_with_their_values(tenant: Tenant) -> None:
    first, second = await reserve_ids(table="contacts", count=2)
    opted_out_at = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    rows = [
        _contact_row(tenant, first, "5581900000001"),
        _contact_row(
            tenant,
            second,
            "5581900000002",
            name="Bruno",
            email="bruno@example.com",
            custom_fields=json.dumps({}),
            opted_out=True,
            opted_out_at=opted_out_at,
            opted_out_reason="keyword SAIR",
        ),
    ]
    await insert_rows(
        table="contacts", columns=CONTACT_COLUMNS, rows=rows, json_columns=("custom_fields",)
    )
    ana, bruno = await Contact.filter(company_id=tenant.company.id).order_by("id")
    assert (ana.id, bruno.id) == (first, second)
    assert (ana.number, ana.name, ana.email) == ("5581900000001", "Ana", None)
    assert ana.custom_fields == {"city": "Recife", "plano": "500 Mega"}
    assert (ana.opted_out, ana.opted_out_at, ana.is_group) == (False, None, False)
    assert ana.created_at == CREATED
    assert (bruno.name, bruno.email, bruno.custom_fields) == ("Bruno", "bruno@example.com", {})
    assert (bruno.opted_out, bruno.opted_out_at) == (True, opted_out_at)
    # Compared by the database as the ORM's own rows are (on SQLite: UTC text, not -03:00).
    created = CREATED.astimezone(UTC)
    around = Contact.filter(
        company_id=tenant.company.id,
        created_at__gte=created - timedelta(seconds=1),
        created_at__lt=created + timedelta(seconds=1),
    )
    assert await around.count() == 2


async def test_the_through_table_and_named_values_out_of_column_order(tenant: Tenant) -> None:
    tags = [await Tag.create(company=tenant.company, name=unique("tag")) for _ in range(2)]
    contact = await Contact.create(company=tenant.company, number="5581900000003")
    await insert_rows(
        table="contact_tags",
        columns=("contacts_id", "tag_id"),
        rows=[(contact.id, tag.id) for tag in tags],
    )
    assert {t.id for t in await contact.tags.all()} == {t.id for t in tags}
    # Sql.execute_many binds each marker to the row's value of that name, wherever it is.
    other = await Tag.create(company=tenant.company, name=unique("tag"))
    await Sql().execute_many(
        "INSERT INTO contact_tags (tag_id, contacts_id) VALUES (:tag, :contact)",
        [(contact.id, other.id)],
        names=("contact", "tag"),
    )
    assert other.id in {t.id for t in await contact.tags.all()}


async def test_rows_are_written_in_the_callers_transaction(tenant: Tenant) -> None:
    contact = await Contact.create(company=tenant.company, number="5581900000004")
    tag = await Tag.create(company=tenant.company, name=unique("tag"))

    seen_inside: list[int] = []

    async def link_then_fail() -> None:
        async with in_transaction():
            rows = [(contact.id, tag.id)]
            await insert_rows(table="contact_tags", columns=("contacts_id", "tag_id"), rows=rows)
            seen_inside.extend(t.id for t in await contact.tags.all())
            raise LookupError("undo")

    with pytest.raises(LookupError, match="undo"):
        await link_then_fail()
    assert seen_inside == [tag.id]
    assert await contact.tags.all() == []


async def test_reserved_ids_are_never_handed_out_again(tenant: Tenant) -> None:
    async with in_transaction():
        reserved = await reserve_ids(table="contacts", count=3)
        assert reserved == sorted(reserved)
        assert len(set(reserved)) == 3
        numbers = [f"55819000001{n:02}" for n in range(3)]
        await insert_rows(
            table="contacts",
            columns=CONTACT_COLUMNS,
            rows=[_contact_row(tenant, i, n) for i, n in zip(reserved, numbers, strict=True)],
            json_columns=("custom_fields",),
        )
    assert await Contact.filter(id__in=reserved).count() == 3
    # Neither the ORM nor the next reservation takes one of them.
    made = await Contact.create(company=tenant.company, number="5581900000200")
    assert made.id > max(reserved)
    assert min(await reserve_ids(table="contacts", count=1)) > made.id
    assert await reserve_ids(table="contacts", count=0) == []


async def test_nothing_to_insert_and_bad_names(tenant: Tenant) -> None:
    await insert_rows(table="contact_tags", columns=("contacts_id", "tag_id"), rows=[])
    with pytest.raises(ValueError, match="no plain table or column name"):
        await insert_rows(table='contacts"; DROP TABLE x; --', columns=("id",), rows=[(1,)])
    with pytest.raises(ValueError, match="JSON columns not inserted"):
        await insert_rows(table="contacts", columns=("id",), rows=[(1,)], json_columns=("x",))
    with pytest.raises(KeyError, match=":tag"):
        await Sql().execute_many(
            "INSERT INTO contact_tags (contacts_id, tag_id) VALUES (:contact, :tag)",
            [(1,)],
            names=("contact",),
        )
