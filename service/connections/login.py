"""`atende connect`: log a WhatsApp connection in from the terminal.

When no other process runs the connection, this one takes its lease and runs the channel for
the login, then hands it back (the server takes it over at its next lease round). When the
server runs it, this one shows what the server reports. Either way what is shown is read from
the database, where the running channel's states are written."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, TextIO

import segno
from redis.asyncio import Redis

from service.channels import ChannelHub, WhatsAppFactory, fake_whatsapp_for_tests
from service.clock import utcnow
from service.connections.models import Channel, Connection, ConnectionStatus
from service.contacts.phones import normalize_number
from service.leases import (
    Leases,
    LocalLeases,
    RedisLeases,
    connection_lease,
    installation_mark,
)
from service.realtime.broker import Broker, InProcessBroker, RedisBroker
from service.settings import Settings

__all__ = ["LoginError", "connect_in_terminal", "find_connection"]

_HANDED_OVER = "logged in by `atende connect`; the server takes it over"


class LoginError(Exception):
    """Why `atende connect` cannot log this connection in (shown to the user as is)."""


@dataclass
class _Shown:
    """What the terminal shows now, so that each change is printed once."""

    status: str = ""
    detail: str = ""
    qr_code: str | None = None
    pairing_code: str | None = None


async def find_connection(target: str) -> Connection:
    """The WhatsApp connection with this id, or with this name (ignoring case)."""
    target = target.strip()
    if target.isdigit():
        found = await Connection.filter(id=int(target)).limit(1)
    else:
        found = await Connection.filter(name__iexact=target).order_by("id").limit(10)
    if not found:
        raise LoginError(f"No connection {target!r}.")
    if len(found) > 1:
        listed = ", ".join(f"{c.id} ({c.name})" for c in found)
        raise LoginError(f"Several connections are called {target!r}; give an id: {listed}.")
    connection = found[0]
    if connection.channel != Channel.whatsapp:
        raise LoginError(f"Connection {connection.id} is a sandbox: there is nothing to log in.")
    return connection


def _pairing_phone(phone: str | None, settings: Settings) -> str | None:
    if phone is None:
        return None
    try:
        return normalize_number(phone, settings.default_country)
    except ValueError as exc:
        raise LoginError(f"--phone {phone!r} {exc}.") from exc


def _shared_services(settings: Settings) -> tuple[Leases, Broker]:
    """The same leases and broker as the server's, to see and reach the process that runs it."""
    ttl = settings.lease_seconds
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        namespace = installation_mark(settings.effective_database_url)
        return RedisLeases(redis, ttl_seconds=ttl, namespace=namespace), RedisBroker(redis)
    return LocalLeases(settings.data_dir / "leases", ttl_seconds=ttl), InProcessBroker()


async def connect_in_terminal(
    settings: Settings,
    *,
    target: str,
    phone: str | None,
    out: TextIO,
    whatsapp_factory: WhatsAppFactory | None = None,
    poll_seconds: float = 0.5,
) -> int:
    """Show the QR codes (or the pairing code for `phone`) of a WhatsApp connection until it
    is connected; returns the exit status. Needs the database open."""
    connection = await find_connection(target)
    pairing_phone = _pairing_phone(phone, settings)
    leases, broker = _shared_services(settings)
    try:
        hub = ChannelHub(settings=settings, broker=broker, clock=utcnow, leases=leases)
        if whatsapp_factory is not None:
            hub.whatsapp_factory = whatsapp_factory
        else:
            fake_whatsapp_for_tests(hub, settings)
        connected = await _log_in(hub, connection, pairing_phone, out, poll_seconds)
    finally:
        await broker.close()  # and the Redis client with it
    if connected:
        _print(out, "The server runs it from now on (start `atende serve` if it is not running).")
    return 0 if connected else 1


async def _log_in(
    hub: ChannelHub,
    connection: Connection,
    pairing_phone: str | None,
    out: TextIO,
    poll_seconds: float,
) -> bool:
    """Run the login here, or show the one of the process that runs the connection."""
    holder = await hub.leases.holder(connection_lease(connection.id))
    runs_elsewhere = holder is not None and holder != hub.worker_id
    if runs_elsewhere:
        _print(out, f"Atende runs {connection.name!r} elsewhere ({holder}): showing its login.")
        # Active, in case that lease is a dead worker's: then this process takes over.
        await Connection.filter(id=connection.id).update(is_active=True)
        await _ask_running_login(hub, connection, pairing_phone)
    else:
        await _begin_login(connection, pairing_phone)
    # Takes the lease (and runs the login here) whenever nobody else holds it.
    leases_task = asyncio.get_running_loop().create_task(hub.run_leases(only=connection.id))
    connected = False
    try:
        connected = await _show_until_connected(connection.id, out, poll_seconds)
    finally:
        leases_task.cancel()
        await asyncio.gather(leases_task, return_exceptions=True)
        await hub.stop(detail=_HANDED_OVER if connected else "stopped")
        if not connected and not connection.is_active:  # as it was before
            await Connection.filter(id=connection.id).update(is_active=False)
    return connected


async def _begin_login(connection: Connection, pairing_phone: str | None) -> None:
    """Make the connection active and connecting, to log in by QR or pairing code."""
    await Connection.filter(id=connection.id).update(
        is_active=True,
        pairing_phone=pairing_phone,
        status=ConnectionStatus.connecting,
        status_detail="",
        qr_code=None,
        pairing_code=None,
    )


async def _ask_running_login(
    hub: ChannelHub, connection: Connection, pairing_phone: str | None
) -> None:
    """Ask the process that runs the connection for a pairing code for another number."""
    if pairing_phone is None or pairing_phone == connection.pairing_phone:
        return
    if connection.status == ConnectionStatus.connected:
        return
    await _begin_login(connection, pairing_phone)
    # The owner also notices the new number at its next lease round (embedded mode, where
    # this process cannot reach it).
    await hub.restart(connection)


async def _show_until_connected(connection_id: int, out: TextIO, poll_seconds: float) -> bool:
    """Print each new state, QR code and pairing code; True once connected, False if banned."""
    shown = _Shown()
    while True:
        row = await Connection.get_or_none(id=connection_id)
        if row is None:
            _print(out, "The connection was deleted.")
            return False
        _show_changes(row, shown, out)
        if row.status == ConnectionStatus.connected:
            number = row.phone_number or row.wa_jid or "WhatsApp"
            _print(out, f"Connected as {number}.")
            return True
        if row.status == ConnectionStatus.banned:
            return False
        await asyncio.sleep(poll_seconds)


def _show_changes(row: Connection, shown: _Shown, out: TextIO) -> None:
    waiting = row.status == ConnectionStatus.qrcode
    if (row.status, row.status_detail) != (shown.status, shown.detail):
        shown.status, shown.detail = row.status, row.status_detail
        detail = f" ({row.status_detail})" if row.status_detail else ""
        _print(out, f"Status: {row.status}{detail}")
    if waiting and row.pairing_code and row.pairing_code != shown.pairing_code:
        shown.pairing_code = row.pairing_code
        _print(
            out,
            f"On the phone of {row.pairing_phone or 'the number'}: WhatsApp > Linked devices > "
            "Link a device > Link with phone number instead, and type this code:",
            f"    {row.pairing_code}",
        )
    # With a pairing code asked for, its QR codes are noise.
    if waiting and row.qr_code and row.qr_code != shown.qr_code and not row.pairing_phone:
        shown.qr_code = row.qr_code
        _print(out, "Scan this QR code with WhatsApp (Linked devices > Link a device):")
        segno.make(row.qr_code).terminal(out=out, compact=True)
        out.flush()


def _print(out: TextIO, *lines: Any) -> None:
    for line in lines:
        print(line, file=out, flush=True)
