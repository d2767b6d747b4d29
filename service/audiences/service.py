"""Reads of contact lists and segments, and what a segment's filters match right now."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from service.audiences.filters import compile_filters
from service.audiences.models import ContactList, ContactListMember, Segment
from service.audiences.schemas import (
    ContactListOut,
    ListMemberOut,
    SegmentFilters,
    SegmentOut,
    SegmentPreview,
)
from service.contacts.models import Contact
from service.contacts.service import contacts_out
from service.tenancy import get_owned, scoped

__all__ = [
    "company_lists",
    "company_segments",
    "get_list",
    "get_segment",
    "list_members",
    "list_out",
    "lists_out",
    "members_count",
    "members_out",
    "preview_filters",
    "segment_filters",
    "segment_out",
    "segments_out",
]

_SAMPLE = 10
_NOT_DIGITS = re.compile(r"\D+")


def company_lists(*, company_id: int, q: str | None = None) -> QuerySet[ContactList]:
    query = scoped(ContactList, company_id)
    return query.filter(name__icontains=q) if q else query


def company_segments(*, company_id: int, q: str | None = None) -> QuerySet[Segment]:
    query = scoped(Segment, company_id)
    return query.filter(name__icontains=q) if q else query


async def get_list(*, company_id: int, list_id: int) -> ContactList:
    """The company's list with this id (404 otherwise)."""
    return await get_owned(ContactList, company_id, list_id)


async def get_segment(*, company_id: int, segment_id: int) -> Segment:
    """The company's segment with this id (404 otherwise)."""
    return await get_owned(Segment, company_id, segment_id)


async def lists_out(rows: Sequence[ContactList]) -> list[ContactListOut]:
    """Lists as the API shows them, their members counted in one query."""
    if not rows:
        return []
    counts = await (
        ContactListMember.filter(contact_list_id__in=[r.id for r in rows])
        .annotate(n=Count("id"))
        .group_by("contact_list_id")
        .values_list("contact_list_id", "n")
    )
    by_id = {list_id: n for list_id, n in counts}
    return [
        ContactListOut(
            id=r.id,
            name=r.name,
            members_count=by_id.get(r.id, 0),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


async def list_out(row: ContactList) -> ContactListOut:
    return (await lists_out([row]))[0]


async def members_count(list_id: int) -> int:
    return await ContactListMember.filter(contact_list_id=list_id).count()


def segment_filters(segment: Segment) -> SegmentFilters:
    """A saved segment's filters; what an older version saved is read leniently (unknown
    keys would fail the strict schema, so they are dropped)."""
    raw = segment.filters if isinstance(segment.filters, dict) else {}
    known = {k: v for k, v in raw.items() if k in SegmentFilters.model_fields}
    return SegmentFilters.model_validate(known)


async def segments_out(rows: Sequence[Segment]) -> list[SegmentOut]:
    return [
        SegmentOut(
            id=s.id,
            name=s.name,
            filters=segment_filters(s),
            created_at=s.created_at,
            updated_at=s.updated_at,
        )
        for s in rows
    ]


async def segment_out(row: Segment) -> SegmentOut:
    return (await segments_out([row]))[0]


def list_members(*, list_id: int, q: str | None = None) -> QuerySet[ContactListMember]:
    """A list's members; `q` matches the contact's name, email or digits of the number."""
    query = ContactListMember.filter(contact_list_id=list_id)
    if q:
        condition = Q(contact__name__icontains=q) | Q(contact__email__icontains=q)
        digits = _NOT_DIGITS.sub("", q)
        if digits:
            condition |= Q(contact__number__contains=digits)
        query = query.filter(condition)
    return query


async def members_out(rows: Sequence[ContactListMember]) -> list[ListMemberOut]:
    """Members with their contact as /api/contacts shows it."""
    if not rows:
        return []
    contacts = await Contact.filter(id__in=[m.contact_id for m in rows])  # type: ignore[attr-defined]
    shown = {c.id: c for c in await contacts_out(contacts)}
    return [
        ListMemberOut(id=m.id, added_at=m.added_at, contact=shown[m.contact_id])  # type: ignore[attr-defined]
        for m in rows
        if m.contact_id in shown  # type: ignore[attr-defined]
    ]


async def preview_filters(
    filters: SegmentFilters, *, company_id: int, now: dt.datetime
) -> SegmentPreview:
    """How many contacts match now, and the first ten of them."""
    counted = compile_filters(filters, company_id=company_id, now=now)
    [(count,)] = await counted.sql.rows(f"SELECT COUNT(*) FROM contacts c WHERE {counted.where}")
    sampled = compile_filters(filters, company_id=company_id, now=now)
    ids = [
        int(row[0])
        for row in await sampled.sql.rows(
            f"SELECT c.id FROM contacts c WHERE {sampled.where} ORDER BY c.id LIMIT {_SAMPLE}"
        )
    ]
    contacts = await scoped(Contact, company_id).filter(id__in=ids).order_by("id") if ids else []
    return SegmentPreview(count=int(count), sample=await contacts_out(contacts))
