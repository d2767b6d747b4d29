"""Reads of tags."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from service.tags.models import Tag
from service.tags.schemas import TagOut
from service.tenancy import get_owned, scoped

__all__ = ["company_tags", "get_tag", "tag_out", "tags_by_name", "tags_out"]


def company_tags(*, company_id: int, q: str | None = None) -> QuerySet[Tag]:
    """The company's tags, optionally those whose name contains `q`."""
    query = scoped(Tag, company_id)
    if q:
        query = query.filter(name__icontains=q)
    return query


async def get_tag(*, company_id: int, tag_id: int) -> Tag:
    """The company's tag with this id (404 otherwise)."""
    return await get_owned(Tag, company_id, tag_id)


async def tags_by_name(*, company_id: int) -> dict[str, Tag]:
    """Every tag of the company by its case-folded name (names are unique ignoring case)."""
    return {tag.name.casefold(): tag for tag in await scoped(Tag, company_id).order_by("id")}


async def tags_out(rows: Sequence[Tag]) -> list[TagOut]:
    """Tags as the API shows them, their contacts counted in one query."""
    if not rows:
        return []
    counts = await (
        Tag.filter(id__in=[t.id for t in rows])
        .annotate(contacts_count=Count("contacts"))
        .group_by("id")
        .values_list("id", "contacts_count")
    )
    by_id = {tag_id: count for tag_id, count in counts}
    return [
        TagOut(
            id=t.id,
            name=t.name,
            color=t.color,
            contacts_count=by_id.get(t.id, 0),
            created_at=t.created_at,
        )
        for t in rows
    ]


async def tag_out(tag: Tag) -> TagOut:
    return (await tags_out([tag]))[0]
