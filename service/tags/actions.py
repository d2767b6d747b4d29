"""Every write of tags: create, rename or recolour, delete; each one audited."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.errors import Conflict
from service.tags.models import Tag
from service.tags.schemas import TagCreate, TagUpdate
from service.tenancy import get_owned, scoped

__all__ = ["create_tag", "create_tag_named", "delete_tag", "update_tag"]


def _conflict() -> Conflict:
    return Conflict("A tag with this name already exists", fields={"name": "is already taken"})


async def _check_name_free(*, company_id: int, name: str, tag_id: int | None = None) -> None:
    # Compared here, not in SQL: SQLite ignores the case of ASCII letters only ("Ção"/"ção").
    taken = await scoped(Tag, company_id).exclude(id=tag_id or 0).values_list("name", flat=True)
    wanted = name.casefold()
    if any(str(other).casefold() == wanted for other in taken):
        raise _conflict()


async def create_tag_named(*, actor: Principal, name: str, color: str = "#888888") -> Tag:
    """A new tag, audited; the caller holds the transaction and has checked the name."""
    tag = await Tag.create(company_id=actor.company_id, name=name, color=color)
    await record_change(
        actor=actor, action="create", object_type="tag", object_id=tag.id, after=snapshot(tag)
    )
    return tag


async def create_tag(*, actor: Principal, data: TagCreate) -> Tag:
    """A new tag; its name is unique in the company, ignoring case (409)."""
    try:
        async with in_transaction():
            await _check_name_free(company_id=actor.company_id, name=data.name)
            return await create_tag_named(actor=actor, name=data.name, color=data.color)
    except IntegrityError as exc:
        raise _conflict() from exc


async def update_tag(*, actor: Principal, tag: Tag, data: TagUpdate) -> Tag:
    """Rename or recolour a tag."""
    try:
        async with in_transaction():
            tag = await get_owned(Tag, actor.company_id, tag.id, lock=True)
            before = snapshot(tag)
            if data.name is not None and data.name != tag.name:
                await _check_name_free(company_id=actor.company_id, name=data.name, tag_id=tag.id)
                tag.name = data.name
            if data.color is not None:
                tag.color = data.color
            await tag.save()
            await record_change(
                actor=actor,
                action="update",
                object_type="tag",
                object_id=tag.id,
                before=before,
                after=snapshot(tag),
            )
    except IntegrityError as exc:
        raise _conflict() from exc
    return tag


async def delete_tag(*, actor: Principal, tag: Tag) -> None:
    """Delete a tag; contacts and tickets simply lose it."""
    async with in_transaction():
        tag = await get_owned(Tag, actor.company_id, tag.id, lock=True)
        before = snapshot(tag)
        await tag.delete()
        await record_change(
            actor=actor, action="delete", object_type="tag", object_id=before["id"], before=before
        )
