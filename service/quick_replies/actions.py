"""Every write of quick replies; each one audited."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.errors import Conflict
from service.quick_replies.models import QuickReply
from service.quick_replies.schemas import QuickReplyCreate, QuickReplyUpdate
from service.tenancy import get_owned, scoped
from service.variables import check_bot_variables

__all__ = ["create_quick_reply", "delete_quick_reply", "update_quick_reply"]

_OBJECT_TYPE = "quick_reply"


def _conflict() -> Conflict:
    return Conflict(
        "A quick reply with this shortcut already exists", fields={"shortcut": "is already taken"}
    )


async def _check_shortcut_free(*, company_id: int, shortcut: str, exclude_id: int | None) -> None:
    query = scoped(QuickReply, company_id).filter(shortcut=shortcut)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    if await query.exists():
        raise _conflict()


async def create_quick_reply(*, actor: Principal, data: QuickReplyCreate) -> QuickReply:
    """A new quick reply; its shortcut is unique in the company (409)."""
    await check_bot_variables(actor=actor, templates={"text": data.text})
    try:
        async with in_transaction():
            await _check_shortcut_free(
                company_id=actor.company_id, shortcut=data.shortcut, exclude_id=None
            )
            reply = await QuickReply.create(
                company_id=actor.company_id, shortcut=data.shortcut, text=data.text
            )
            await record_change(
                actor=actor,
                action="create",
                object_type=_OBJECT_TYPE,
                object_id=reply.id,
                after=snapshot(reply),
            )
    except IntegrityError as exc:
        raise _conflict() from exc
    return reply


async def update_quick_reply(
    *, actor: Principal, quick_reply: QuickReply, data: QuickReplyUpdate
) -> QuickReply:
    """Change a quick reply's shortcut or text."""
    if data.text is not None:
        await check_bot_variables(actor=actor, templates={"text": data.text})
    try:
        async with in_transaction():
            reply = await get_owned(QuickReply, actor.company_id, quick_reply.id, lock=True)
            before = snapshot(reply)
            if data.shortcut is not None and data.shortcut != reply.shortcut:
                await _check_shortcut_free(
                    company_id=actor.company_id, shortcut=data.shortcut, exclude_id=reply.id
                )
                reply.shortcut = data.shortcut
            if data.text is not None:
                reply.text = data.text
            await reply.save()
            await record_change(
                actor=actor,
                action="update",
                object_type=_OBJECT_TYPE,
                object_id=reply.id,
                before=before,
                after=snapshot(reply),
            )
    except IntegrityError as exc:
        raise _conflict() from exc
    return reply


async def delete_quick_reply(*, actor: Principal, quick_reply: QuickReply) -> None:
    """Delete a quick reply."""
    async with in_transaction():
        reply = await get_owned(QuickReply, actor.company_id, quick_reply.id, lock=True)
        before = snapshot(reply)
        await reply.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type=_OBJECT_TYPE,
            object_id=quick_reply.id,
            before=before,
        )
