"""Reads of scheduled messages: everyone in the company sees a contact's."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from service.campaigns.models import ScheduledMessage
from service.scheduled.schemas import ScheduledOut
from service.tenancy import get_owned, scoped
from service.tickets.models import Message
from service.users.models import User

__all__ = ["company_scheduled", "get_scheduled", "scheduled_out", "scheduled_outs"]


def company_scheduled(
    *, company_id: int, contact_id: int | None = None, status: str | None = None
) -> QuerySet[ScheduledMessage]:
    query = scoped(ScheduledMessage, company_id)
    if contact_id is not None:
        query = query.filter(contact_id=contact_id)
    if status is not None:
        query = query.filter(status=status)
    return query


async def get_scheduled(*, company_id: int, scheduled_id: int) -> ScheduledMessage:
    """The company's scheduled message with this id (404 otherwise)."""
    return await get_owned(ScheduledMessage, company_id, scheduled_id)


async def scheduled_outs(rows: Sequence[ScheduledMessage]) -> list[ScheduledOut]:
    """As the API shows them: the author's name and the ticket it went to, one query each."""
    if not rows:
        return []
    user_ids = {r.user_id for r in rows if r.user_id is not None}  # type: ignore[attr-defined]
    names = dict(await User.filter(id__in=user_ids).values_list("id", "name")) if user_ids else {}
    message_ids = [r.message_id for r in rows if r.message_id is not None]
    tickets: dict[int, int] = (
        dict(await Message.filter(id__in=message_ids).values_list("id", "ticket_id"))
        if message_ids
        else {}
    )
    return [
        ScheduledOut(
            id=r.id,
            contact_id=r.contact_id,  # type: ignore[attr-defined]
            connection_id=r.connection_id,  # type: ignore[attr-defined]
            user_id=r.user_id,  # type: ignore[attr-defined]
            user_name=names.get(r.user_id),  # type: ignore[attr-defined]
            body=r.body,
            media_name=r.media_name,
            media_mime=r.media_mime,
            send_at=r.send_at,
            status=r.status.value,
            reason=r.reason,
            sent_at=r.sent_at,
            message_id=r.message_id,
            ticket_id=tickets.get(r.message_id) if r.message_id is not None else None,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def scheduled_out(row: ScheduledMessage) -> ScheduledOut:
    return (await scheduled_outs([row]))[0]
