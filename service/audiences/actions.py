"""Every write of contact lists and segments; creating, renaming and deleting is audited.

Members are added with one INSERT … SELECT (ON CONFLICT DO NOTHING), so adding a segment
of thousands of contacts is one statement, and adding someone twice is harmless."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audiences.filters import compile_filters
from service.audiences.models import ContactList, ContactListMember, Segment
from service.audiences.schemas import (
    ContactListCreate,
    ContactListUpdate,
    MembersChanged,
    SegmentCreate,
    SegmentFilters,
    SegmentUpdate,
)
from service.audiences.service import members_count, segment_filters
from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.contacts.models import Contact
from service.errors import Conflict
from service.queues.models import Queue
from service.sql import Sql
from service.tags.models import Tag
from service.tenancy import ensure_name_free, get_owned, lock_company, owned_ids

__all__ = [
    "add_from_filters",
    "add_members",
    "check_filters",
    "create_list",
    "create_segment",
    "delete_list",
    "delete_segment",
    "materialise_segment",
    "remove_members",
    "rename_list",
    "update_segment",
]

_MAX_NAME = 120
_LIST_TAKEN = "A contact list with this name already exists"
_SEGMENT_TAKEN = "A segment with this name already exists"


async def check_filters(filters: SegmentFilters, *, company_id: int) -> None:
    """The tags and queues the filters name are the company's (422 otherwise)."""
    if filters.tag_ids():
        await owned_ids(Tag, company_id, filters.tag_ids(), field="filters.tags")
    if filters.queue_ids:
        await owned_ids(Queue, company_id, filters.queue_ids, field="filters.queue_ids")


# Lists


async def create_list(*, actor: Principal, data: ContactListCreate) -> ContactList:
    try:
        async with in_transaction():
            await lock_company(actor.company_id)
            await ensure_name_free(ContactList, actor.company_id, data.name, message=_LIST_TAKEN)
            row = await ContactList.create(company_id=actor.company_id, name=data.name)
            await record_change(
                actor=actor,
                action="create",
                object_type="contact_list",
                object_id=row.id,
                after=snapshot(row),
            )
            return row
    except IntegrityError as exc:
        raise Conflict(_LIST_TAKEN, fields={"name": "already in use"}) from exc


async def rename_list(*, actor: Principal, list_id: int, data: ContactListUpdate) -> ContactList:
    try:
        async with in_transaction():
            await lock_company(actor.company_id)
            row = await get_owned(ContactList, actor.company_id, list_id, lock=True)
            before = snapshot(row)
            await ensure_name_free(
                ContactList, actor.company_id, data.name, excluding=row.id, message=_LIST_TAKEN
            )
            row.name = data.name
            await row.save()
            await record_change(
                actor=actor,
                action="update",
                object_type="contact_list",
                object_id=row.id,
                before=before,
                after=snapshot(row),
            )
            return row
    except IntegrityError as exc:
        raise Conflict(_LIST_TAKEN, fields={"name": "already in use"}) from exc


async def delete_list(*, actor: Principal, list_id: int) -> None:
    """Delete a list and its memberships (never the contacts); a campaign that used it keeps
    its recipients, which were copied when it started."""
    async with in_transaction():
        row = await get_owned(ContactList, actor.company_id, list_id, lock=True)
        before = snapshot(row)
        await row.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type="contact_list",
            object_id=before["id"],
            before=before,
        )


async def add_members(
    *, company_id: int, list_id: int, contact_ids: list[int], now: dt.datetime
) -> MembersChanged:
    """Add the company's contacts (any unknown id is a 422, and nothing is added); those
    already in the list stay as they were."""
    async with in_transaction():
        row = await get_owned(ContactList, company_id, list_id, lock=True)
        contacts = await owned_ids(Contact, company_id, contact_ids, field="contact_ids")
        before = await members_count(row.id)
        sql = Sql()
        await sql.execute(
            "INSERT INTO contact_list_members (contact_list_id, contact_id, added_at) "
            f"SELECT {sql.param(row.id)}, c.id, {sql.param(now)} FROM contacts c "
            f"WHERE c.company_id = {sql.param(company_id)} "
            f"AND c.id IN ({sql.params([c.id for c in contacts])}) "
            "ON CONFLICT (contact_list_id, contact_id) DO NOTHING"
        )
        after = await members_count(row.id)
        await ContactList.filter(id=row.id).update(updated_at=now)
    return MembersChanged(changed=after - before, members_count=after)


async def remove_members(
    *, company_id: int, list_id: int, contact_ids: list[int]
) -> MembersChanged:
    """Take these contacts out of the list; ids that are not members are ignored."""
    async with in_transaction():
        row = await get_owned(ContactList, company_id, list_id, lock=True)
        removed = await ContactListMember.filter(
            contact_list_id=row.id, contact_id__in=contact_ids
        ).delete()
        after = await members_count(row.id)
    return MembersChanged(changed=removed, members_count=after)


async def _add_matching(
    *, company_id: int, list_id: int, filters: SegmentFilters, now: dt.datetime
) -> None:
    compiled = compile_filters(filters, company_id=company_id, now=now)
    sql = compiled.sql
    list_marker, now_marker = sql.param(list_id), sql.param(now)
    await sql.execute(
        "INSERT INTO contact_list_members (contact_list_id, contact_id, added_at) "
        f"SELECT {list_marker}, c.id, {now_marker} FROM contacts c WHERE {compiled.where} "
        "ON CONFLICT (contact_list_id, contact_id) DO NOTHING"
    )


async def add_from_filters(
    *, company_id: int, list_id: int, filters: SegmentFilters, now: dt.datetime
) -> MembersChanged:
    """Add everyone the filters match now (opted-out contacts never). The caller checked
    filters that came from a request (check_filters); a saved segment's may name a tag
    deleted since, which then simply matches nobody."""
    async with in_transaction():
        row = await get_owned(ContactList, company_id, list_id, lock=True)
        before = await members_count(row.id)
        await _add_matching(company_id=company_id, list_id=row.id, filters=filters, now=now)
        after = await members_count(row.id)
        await ContactList.filter(id=row.id).update(updated_at=now)
    return MembersChanged(changed=after - before, members_count=after)


async def materialise_segment(
    *, company_id: int, segment_id: int, name: str | None = None, now: dt.datetime | None = None
) -> ContactList:
    """A new contact list holding everyone the segment matches now, opted-out contacts
    excluded: what a campaign sends to, frozen when it starts. Named "<segment> @ <UTC
    time>" unless `name` is given; a name already taken gets " (2)", " (3)"…"""
    when = now or dt.datetime.now(dt.UTC)
    async with in_transaction():
        segment = await get_owned(Segment, company_id, segment_id)
        stamp = f" @ {when.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        base = name or segment.name[: _MAX_NAME - len(stamp)] + stamp
        await lock_company(company_id)
        names = await ContactList.filter(
            company_id=company_id, name__istartswith=base[:100]
        ).values_list("name", flat=True)
        taken = {str(taken_name).casefold() for taken_name in names}
        chosen, n = base[:_MAX_NAME], 2
        while chosen.casefold() in taken:
            suffix = f" ({n})"
            chosen, n = base[: _MAX_NAME - len(suffix)] + suffix, n + 1
        row = await ContactList.create(company_id=company_id, name=chosen)
        await _add_matching(
            company_id=company_id, list_id=row.id, filters=segment_filters(segment), now=when
        )
        return row


# Segments


async def create_segment(*, actor: Principal, data: SegmentCreate) -> Segment:
    await check_filters(data.filters, company_id=actor.company_id)
    try:
        async with in_transaction():
            await lock_company(actor.company_id)
            await ensure_name_free(Segment, actor.company_id, data.name, message=_SEGMENT_TAKEN)
            row = await Segment.create(
                company_id=actor.company_id,
                name=data.name,
                filters=data.filters.model_dump(mode="json", exclude_defaults=True),
            )
            await record_change(
                actor=actor,
                action="create",
                object_type="segment",
                object_id=row.id,
                after=snapshot(row),
            )
            return row
    except IntegrityError as exc:
        raise Conflict(_SEGMENT_TAKEN, fields={"name": "already in use"}) from exc


async def update_segment(*, actor: Principal, segment_id: int, data: SegmentUpdate) -> Segment:
    if data.filters is not None:
        await check_filters(data.filters, company_id=actor.company_id)
    try:
        async with in_transaction():
            await lock_company(actor.company_id)
            row = await get_owned(Segment, actor.company_id, segment_id, lock=True)
            before = snapshot(row)
            if data.name is not None:
                await ensure_name_free(
                    Segment, actor.company_id, data.name, excluding=row.id, message=_SEGMENT_TAKEN
                )
                row.name = data.name
            if data.filters is not None:
                row.filters = data.filters.model_dump(mode="json", exclude_defaults=True)
            await row.save()
            await record_change(
                actor=actor,
                action="update",
                object_type="segment",
                object_id=row.id,
                before=before,
                after=snapshot(row),
            )
            return row
    except IntegrityError as exc:
        raise Conflict(_SEGMENT_TAKEN, fields={"name": "already in use"}) from exc


async def delete_segment(*, actor: Principal, segment_id: int) -> None:
    async with in_transaction():
        row = await get_owned(Segment, actor.company_id, segment_id, lock=True)
        before = snapshot(row)
        await row.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type="segment",
            object_id=before["id"],
            before=before,
        )
