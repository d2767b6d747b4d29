"""Reads of contacts, and the contacts CSV export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from service.contacts.models import Contact
from service.contacts.schemas import CONTACT_COLUMNS, ContactOut, TagRef
from service.tenancy import get_owned, scoped
from service.tickets.models import Ticket

__all__ = [
    "company_contacts",
    "contact_out",
    "contacts_csv",
    "contacts_out",
    "csv_cell",
    "get_contact",
]

_NOT_DIGITS = re.compile(r"\D+")
# Spreadsheets run a cell starting with one of these as a formula; a leading quote makes it
# text. A value that already starts with quotes before one of them gets one more quote, so
# that the import can strip exactly one and give back the original.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_EXPORT_BATCH = 1000


def company_contacts(
    *,
    company_id: int,
    q: str | None = None,
    tag_id: int | None = None,
    opted_out: bool | None = None,
) -> QuerySet[Contact]:
    """The company's contacts; `q` matches the name, the email or digits of the number."""
    query = scoped(Contact, company_id)
    if q:
        condition = Q(name__icontains=q) | Q(email__icontains=q)
        digits = _NOT_DIGITS.sub("", q)
        if digits:
            condition |= Q(number__contains=digits)
        query = query.filter(condition)
    if tag_id is not None:
        query = query.filter(tags__id=tag_id)
    if opted_out is not None:
        query = query.filter(opted_out=opted_out)
    return query


async def get_contact(*, company_id: int, contact_id: int) -> Contact:
    """The company's contact with this id (404 otherwise)."""
    return await get_owned(Contact, company_id, contact_id)


async def _tickets_counts(company_id: int, contact_ids: list[int]) -> dict[int, int]:
    rows = await (
        scoped(Ticket, company_id)
        .filter(contact_id__in=contact_ids)
        .annotate(tickets_count=Count("id"))
        .group_by("contact_id")
        .values_list("contact_id", "tickets_count")
    )
    return {contact_id: count for contact_id, count in rows}


async def contacts_out(rows: Sequence[Contact]) -> list[ContactOut]:
    """Contacts as the API shows them: tags and ticket counts fetched in one query each."""
    if not rows:
        return []
    contacts = list(rows)
    await Contact.fetch_for_list(contacts, "tags")
    # One company's contacts (a list is never mixed).
    counts = await _tickets_counts(contacts[0].company_id, [c.id for c in contacts])  # type: ignore[attr-defined]
    return [
        ContactOut(
            id=c.id,
            name=c.name,
            number=c.number,
            email=c.email,
            custom_fields=c.custom_fields or {},
            opted_out=c.opted_out,
            opted_out_at=c.opted_out_at,
            opted_out_reason=c.opted_out_reason,
            language=c.language,
            tags=[
                TagRef(id=t.id, name=t.name, color=t.color)
                for t in sorted(c.tags, key=lambda t: (t.name.lower(), t.id))
            ],
            tickets_count=counts.get(c.id, 0),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in contacts
    ]


async def contact_out(contact: Contact) -> ContactOut:
    return (await contacts_out([contact]))[0]


def csv_cell(value: Any) -> str:
    """A value as one CSV cell: text as is, booleans as true/false, formulas neutralised."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return "'" + text if _FORMULA.match(text) else text


async def contacts_csv(
    *,
    company_id: int,
    q: str | None = None,
    tag_id: int | None = None,
    opted_out: bool | None = None,
) -> str:
    """The contacts of the company the list's filters select, as CSV (RFC 4180) with a BOM
    (so that Excel reads the accents as UTF-8): the contact's columns, then one per custom
    field key in use."""
    contacts: list[Contact] = []
    last_id = 0
    selected = company_contacts(company_id=company_id, q=q, tag_id=tag_id, opted_out=opted_out)
    while True:
        batch = await selected.filter(id__gt=last_id).order_by("id").limit(_EXPORT_BATCH)
        if not batch:
            break
        await Contact.fetch_for_list(batch, "tags")
        contacts.extend(batch)
        last_id = batch[-1].id
    keys = sorted({key for c in contacts for key in (c.custom_fields or {})})
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CONTACT_COLUMNS, *(csv_cell(key) for key in keys)])
    for c in contacts:
        fields = c.custom_fields or {}
        tags = ";".join(sorted((t.name for t in c.tags), key=str.lower))
        row = [c.name, c.number, c.email, tags, c.opted_out, *(fields.get(k) for k in keys)]
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()
