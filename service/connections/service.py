"""Reads of connections."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from service.connections.models import Connection
from service.connections.schemas import ConnectionOut
from service.tenancy import get_owned, scoped

__all__ = [
    "company_connections",
    "connection_out",
    "connections_out",
    "default_connection",
    "get_connection",
]


def company_connections(*, company_id: int, q: str | None = None) -> QuerySet[Connection]:
    """The company's connections, optionally those whose name contains `q`."""
    query = scoped(Connection, company_id)
    if q:
        query = query.filter(name__icontains=q)
    return query


async def get_connection(*, company_id: int, connection_id: int, lock: bool = False) -> Connection:
    """The company's connection with this id (404 for another company's)."""
    return await get_owned(Connection, company_id, connection_id, lock=lock)


async def default_connection(*, company_id: int) -> Connection | None:
    """The company's default connection (None when it has none)."""
    return await scoped(Connection, company_id).filter(is_default=True).order_by("id").first()


async def connections_out(connections: Sequence[Connection]) -> list[ConnectionOut]:
    """Connections as the API shows them, their queues fetched in one query."""
    if not connections:
        return []
    await Connection.fetch_for_list(list(connections), "queues")
    return [
        ConnectionOut(
            id=c.id,
            name=c.name,
            channel=c.channel,
            is_default=c.is_default,
            is_active=c.is_active,
            status=c.status,
            phone_number=c.phone_number,
            greeting=c.greeting,
            farewell=c.farewell,
            out_of_hours_message=c.out_of_hours_message,
            groups_enabled=c.groups_enabled,
            queue_ids=sorted(q.id for q in c.queues),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in connections
    ]


async def connection_out(connection: Connection) -> ConnectionOut:
    return (await connections_out([connection]))[0]
