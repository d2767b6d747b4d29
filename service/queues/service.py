"""Reads of queues."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from flows.spec import MenuOption, forwarded_queue_ids
from service.errors import InvalidFields
from service.http import Page
from service.queues.models import Queue
from service.queues.schemas import QueueOut, QueueQuery
from service.tenancy import get_owned, scoped

__all__ = [
    "company_queues",
    "get_queue",
    "queue_out",
    "queues_forwarding_to",
    "queues_out",
    "queues_page",
]


def company_queues(*, company_id: int, q: str | None = None) -> QuerySet[Queue]:
    """The company's queues, optionally those whose name contains `q`."""
    query = scoped(Queue, company_id)
    if q:
        query = query.filter(name__icontains=q)
    return query


async def get_queue(*, company_id: int, queue_id: int, lock: bool = False) -> Queue:
    """The company's queue with this id (404 for another company's)."""
    return await get_owned(Queue, company_id, queue_id, lock=lock)


def _encode_cursor(queue: Queue) -> str:
    raw = f"queue:{queue.position}:{queue.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, position, last_id = text.split(":")
        if kind != "queue":
            raise ValueError(kind)
        values = int(position), int(last_id)
        if not all(-(2**31) <= value < 2**31 for value in values):
            raise ValueError(text)
        return values
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidFields({"cursor": "is not a cursor this API gave out"}) from exc


async def queues_page(*, company_id: int, args: QueueQuery) -> Page:
    """One page of the company's queues in menu order: by position, then id."""
    query = company_queues(company_id=company_id, q=args.q)
    if args.cursor is not None:
        position, last_id = _decode_cursor(args.cursor)
        query = query.filter(Q(position__gt=position) | Q(position=position, id__gt=last_id))
    rows = await query.order_by("position", "id").limit(args.limit + 1)
    has_more = len(rows) > args.limit
    rows = rows[: args.limit]
    next_cursor = _encode_cursor(rows[-1]) if has_more and rows else None
    return Page(items=await queues_out(rows), next_cursor=next_cursor)


def _related_ids(queue: Queue, relation: str) -> list[int]:
    # The reverse relations (users, connections) are declared on the other models only.
    return sorted(row.pk for row in getattr(queue, relation))


async def queues_out(queues: Sequence[Queue]) -> list[QueueOut]:
    """Queues as the API shows them, their users and connections fetched in one query each."""
    if not queues:
        return []
    await Queue.fetch_for_list(list(queues), "users", "connections")
    return [
        QueueOut(
            id=q.id,
            name=q.name,
            color=q.color,
            greeting=q.greeting,
            position=q.position,
            options=q.options,
            business_hours=q.business_hours,
            out_of_hours_message=q.out_of_hours_message,
            keywords=q.keywords,
            user_ids=_related_ids(q, "users"),
            connection_ids=_related_ids(q, "connections"),
            created_at=q.created_at,
            updated_at=q.updated_at,
        )
        for q in queues
    ]


async def queue_out(queue: Queue) -> QueueOut:
    return (await queues_out([queue]))[0]


async def queues_forwarding_to(*, company_id: int, queue_id: int) -> list[Queue]:
    """The company's other queues whose menu has an option forwarding to `queue_id`."""
    forwarding = []
    for queue in await scoped(Queue, company_id).exclude(id=queue_id).order_by("position", "id"):
        options = [MenuOption.model_validate(option) for option in queue.options or []]
        if queue_id in forwarded_queue_ids(options).values():
            forwarding.append(queue)
    return forwarding
