"""Reads of quick replies."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from service.quick_replies.models import QuickReply
from service.quick_replies.schemas import QuickReplyOut
from service.tenancy import get_owned, scoped

__all__ = ["company_quick_replies", "get_quick_reply", "quick_replies_out", "quick_reply_out"]


def company_quick_replies(*, company_id: int, q: str | None = None) -> QuerySet[QuickReply]:
    """The company's quick replies; `q` matches the shortcut's start or a part of the text."""
    query = scoped(QuickReply, company_id)
    if q:
        # Agents type "/shortcut" in the composer; the slash is not part of the shortcut.
        prefix = q.lower().lstrip("/")
        condition = Q(text__icontains=q)
        if prefix:
            condition |= Q(shortcut__startswith=prefix)
        query = query.filter(condition)
    return query


async def get_quick_reply(*, company_id: int, quick_reply_id: int) -> QuickReply:
    """The company's quick reply with this id (404 otherwise)."""
    return await get_owned(QuickReply, company_id, quick_reply_id)


async def quick_replies_out(rows: Sequence[QuickReply]) -> list[QuickReplyOut]:
    """Quick replies as the API shows them."""
    return [QuickReplyOut.model_validate(row, from_attributes=True) for row in rows]


async def quick_reply_out(quick_reply: QuickReply) -> QuickReplyOut:
    return (await quick_replies_out([quick_reply]))[0]
