"""Every write of connections (admins); a company with connections always has one default."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.campaigns.models import Campaign
from service.connections.models import Channel, Connection, ConnectionStatus
from service.connections.schemas import ConnectionCreate, ConnectionUpdate
from service.connections.service import get_connection
from service.errors import Conflict, InvalidFields
from service.plan_limits import check_plan_limit
from service.queues.models import Queue
from service.tenancy import ensure_name_free, lock_company, owned_ids, scoped
from service.tickets.models import Ticket
from service.variables import check_bot_variables, templates_in

__all__ = [
    "create_connection",
    "delete_connection",
    "log_out_connection",
    "start_connection",
    "stop_connection",
    "update_connection",
]

_NAME_TAKEN = "A connection with this name already exists"
# Codes that log a phone in for a minute or two: not history worth keeping.
_NOT_AUDITED = ("qr_code", "pairing_code")


async def _audit_snapshot(connection: Connection) -> dict[str, Any]:
    queue_ids = sorted(await connection.queues.all().values_list("id", flat=True))
    data = snapshot(connection, queue_ids=queue_ids)
    for name in _NOT_AUDITED:
        data.pop(name, None)
    return data


async def _set_default(actor: Principal, connection: Connection, is_default: bool) -> None:
    """Flip one connection's default flag, with its own audit entry."""
    before = await _audit_snapshot(connection)
    connection.is_default = is_default
    await connection.save(update_fields=["is_default", "updated_at"])
    await record_change(
        actor=actor,
        action="update",
        object_type="connection",
        object_id=connection.id,
        before=before,
        after=await _audit_snapshot(connection),
    )


async def _unset_other_defaults(actor: Principal, *, keep_id: int | None) -> None:
    others = scoped(Connection, actor.company_id).filter(is_default=True)
    if keep_id is not None:
        others = others.exclude(id=keep_id)
    for other in await others:
        await _set_default(actor, other, False)


# What the bot says for a connection, with the conversation's `{{variables}}`.
_SAID = ("greeting", "farewell", "out_of_hours_message")


async def create_connection(*, actor: Principal, data: ConnectionCreate) -> Connection:
    """A new connection (the company's first one becomes its default)."""
    given = data.model_dump(mode="json")
    await check_bot_variables(actor=actor, templates=templates_in(given, _SAID))
    async with in_transaction():
        await lock_company(actor.company_id)
        queues = await owned_ids(Queue, actor.company_id, data.queue_ids, field="queue_ids")
        await ensure_name_free(Connection, actor.company_id, data.name, message=_NAME_TAKEN)
        await check_plan_limit(company_id=actor.company_id, model=Connection)
        is_first = not await scoped(Connection, actor.company_id).exists()
        is_default = data.is_default or is_first
        if is_default:
            await _unset_other_defaults(actor, keep_id=None)
        try:
            connection = await Connection.create(
                company_id=actor.company_id,
                **data.model_dump(exclude={"queue_ids", "is_default"}),
                is_default=is_default,
            )
        except IntegrityError as exc:
            raise Conflict(_NAME_TAKEN, fields={"name": "already in use"}) from exc
        if queues:
            await connection.queues.add(*queues)
        await record_change(
            actor=actor,
            action="create",
            object_type="connection",
            object_id=connection.id,
            after=await _audit_snapshot(connection),
        )
    return connection


async def update_connection(
    *, actor: Principal, connection_id: int, data: ConnectionUpdate
) -> Connection:
    """Change the fields the body sets; making one default un-defaults the others."""
    changes = data.changes()
    given = data.model_dump(mode="json", include=set(changes))
    await check_bot_variables(actor=actor, templates=templates_in(given, _SAID))
    async with in_transaction():
        await lock_company(actor.company_id)
        connection = await get_connection(
            company_id=actor.company_id, connection_id=connection_id, lock=True
        )
        before = await _audit_snapshot(connection)
        channel = changes.pop("channel", connection.channel)
        if channel != connection.channel:
            raise InvalidFields(
                {"channel": "cannot change after creation; create another connection instead"}
            )
        queue_ids: list[int] | None = changes.pop("queue_ids", None)
        queues = (
            None
            if queue_ids is None
            else await owned_ids(Queue, actor.company_id, queue_ids, field="queue_ids")
        )
        if changes.get("is_default") is False and connection.is_default:
            raise InvalidFields(
                {"is_default": "a company always has a default connection; make another default"}
            )
        if "name" in changes and changes["name"] != connection.name:
            await ensure_name_free(
                Connection,
                actor.company_id,
                changes["name"],
                excluding=connection.id,
                message=_NAME_TAKEN,
            )
        if changes.get("is_default") and not connection.is_default:
            await _unset_other_defaults(actor, keep_id=connection.id)
        connection.update_from_dict(changes)
        try:
            await connection.save()
        except IntegrityError as exc:
            raise Conflict(_NAME_TAKEN, fields={"name": "already in use"}) from exc
        if queues is not None:
            await connection.queues.clear()
            if queues:
                await connection.queues.add(*queues)
        await record_change(
            actor=actor,
            action="update",
            object_type="connection",
            object_id=connection.id,
            before=before,
            after=await _audit_snapshot(connection),
        )
    return connection


async def delete_connection(*, actor: Principal, connection_id: int) -> None:
    """Delete a connection that has no tickets nor campaigns; when it was the default, the
    oldest remaining one becomes default. One with history is deactivated instead."""
    async with in_transaction():
        await lock_company(actor.company_id)
        connection = await get_connection(
            company_id=actor.company_id, connection_id=connection_id, lock=True
        )
        # Deleting would cascade to every ticket and message it carried.
        if await Ticket.filter(connection_id=connection.id).exists():
            raise Conflict(
                "This connection has conversations; deactivate it (is_active=false) to keep them"
            )
        if await Campaign.filter(connection_id=connection.id).exists():
            raise Conflict(
                "This connection has campaigns; delete them first or deactivate the connection"
            )
        before = await _audit_snapshot(connection)
        was_default = connection.is_default
        await connection.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type="connection",
            object_id=connection_id,
            before=before,
        )
        if was_default:
            oldest = await scoped(Connection, actor.company_id).order_by("created_at", "id").first()
            if oldest is not None:
                await _set_default(actor, oldest, True)


async def _session_change(
    *, actor: Principal, connection_id: int, action: str, changes: dict[str, Any]
) -> Connection:
    """Apply a change of a connection's session (start, stop, logout), audited."""
    async with in_transaction():
        connection = await get_connection(
            company_id=actor.company_id, connection_id=connection_id, lock=True
        )
        before = await _audit_snapshot(connection)
        connection.update_from_dict(changes)
        await connection.save(update_fields=[*changes, "updated_at"])
        await record_change(
            actor=actor,
            action=action,
            object_type="connection",
            object_id=connection.id,
            before=before,
            after=await _audit_snapshot(connection),
        )
    return connection


async def start_connection(
    *, actor: Principal, connection_id: int, pairing_phone: str | None
) -> Connection:
    """Mark a connection active and connecting. A WhatsApp one without a session then logs
    in by QR code, or by a pairing code when `pairing_phone` (E.164) is given."""
    changes: dict[str, Any] = {
        "is_active": True,
        "status": ConnectionStatus.connecting,
        "status_detail": "",
        "qr_code": None,
        "pairing_code": None,
    }
    connection = await get_connection(company_id=actor.company_id, connection_id=connection_id)
    if connection.channel == Channel.whatsapp:
        changes["pairing_phone"] = pairing_phone
    return await _session_change(
        actor=actor, connection_id=connection_id, action="start", changes=changes
    )


async def stop_connection(*, actor: Principal, connection_id: int) -> Connection:
    """Mark a connection inactive and disconnected; its WhatsApp session is kept."""
    changes = {
        "is_active": False,
        "status": ConnectionStatus.disconnected,
        "status_detail": "stopped",
        "qr_code": None,
        "pairing_code": None,
    }
    return await _session_change(
        actor=actor, connection_id=connection_id, action="stop", changes=changes
    )


async def log_out_connection(*, actor: Principal, connection_id: int) -> Connection:
    """Mark a connection inactive and logged out: its WhatsApp account is forgotten, the next
    start needs a new login."""
    changes = {
        "is_active": False,
        "status": ConnectionStatus.logged_out,
        "status_detail": "logged out",
        "qr_code": None,
        "pairing_code": None,
        "pairing_phone": None,
        "wa_jid": None,
    }
    return await _session_change(
        actor=actor, connection_id=connection_id, action="logout", changes=changes
    )
