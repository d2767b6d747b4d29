"""Reads of connections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import segno
from tortoise.queryset import QuerySet

from service.connections.models import Connection, ConnectionStatus
from service.connections.schemas import ConnectionLoginOut, ConnectionOut, ConnectionStatusOut
from service.events import CONNECTION_UPDATED
from service.tenancy import get_owned, scoped
from service.users.models import Role

__all__ = [
    "company_connections",
    "connection_login",
    "connection_out",
    "connection_updated",
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
            status_detail=c.status_detail,
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


def _login_codes(connection: Connection) -> tuple[str | None, str | None]:
    """The QR code and pairing code, only while the connection waits for a login."""
    if connection.status != ConnectionStatus.qrcode:
        return None, None
    return connection.qr_code, connection.pairing_code


def connection_login(connection: Connection) -> ConnectionLoginOut:
    """The login state of a connection, the QR code also drawn as a PNG data URL."""
    qr_code, pairing_code = _login_codes(connection)
    qr_png = segno.make(qr_code).png_data_uri(scale=5) if qr_code else None
    return ConnectionLoginOut(
        status=connection.status, qr_code=qr_code, qr_png=qr_png, pairing_code=pairing_code
    )


def connection_updated(connection: Connection) -> list[dict[str, Any]]:
    """The realtime events of a connection's new status for its company. The login codes
    (they link a phone to the number) go to its admins only; the others get them as null."""
    qr_code, pairing_code = _login_codes(connection)
    data = ConnectionStatusOut(
        id=connection.id,
        status=connection.status,
        detail=connection.status_detail,
        qr_code=qr_code,
        pairing_code=pairing_code,
    )
    company = {"company_id": connection.company_id}  # type: ignore[attr-defined]
    if qr_code is None and pairing_code is None:
        return [CONNECTION_UPDATED.event(data, audience=company)]
    others = [role.value for role in Role if role is not Role.admin]
    hidden = data.model_copy(update={"qr_code": None, "pairing_code": None})
    return [
        CONNECTION_UPDATED.event(data, audience={**company, "roles": ["admin"]}),
        CONNECTION_UPDATED.event(hidden, audience={**company, "roles": others}),
    ]
