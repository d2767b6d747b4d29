"""The service's side of the channels: what a channel reports goes to the pipeline, the
receipts to the messages, the states to the connection; and which channel runs where.

Sandbox connections run in every worker. Each active WhatsApp connection is run by exactly
one worker, the holder of its lease (service.leases); a request that another worker handles
reaches it as a command over the broker."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from tortoise.transactions import in_transaction

from bot.channel import (
    Channel,
    ConnectionState,
    GroupRenamed,
    InboundMessage,
    Receipt,
    StateChange,
)
from bot.sandbox import SandboxChannel
from bot.sessions import SessionManager
from service.campaigns.actions import apply_receipt as campaign_receipt
from service.clock import Clock
from service.connections.models import Channel as ChannelKind
from service.connections.models import Connection, ConnectionStatus
from service.connections.service import connection_updated
from service.contacts.actions import follow_group_subject
from service.events import message_updated
from service.inbound import Pipeline
from service.leases import Leases, connection_lease, installation_mark
from service.loops import LoopHealth, backoff_seconds
from service.outbound import OutboundSender
from service.outbound_recovery import OutboundRecovery
from service.realtime.broker import SUBSCRIBED, Broker
from service.sandbox.journal import JournaledSandbox
from service.settings import Settings
from service.sql import Sql

__all__ = [
    "COMMAND",
    "ChannelHub",
    "WhatsAppFactory",
    "fake_whatsapp_for_tests",
    "state_fields",
    "whatsapp_store_lock",
]

log = logging.getLogger("atende.channels")

# A request for the worker that runs a connection. Internal: it carries no "audience", and
# the websocket fanout forwards only events with an audience, so no browser ever sees one.
COMMAND = "channel.command"

WhatsAppFactory = Callable[[Connection], Channel]

_LOGOUT_TIMEOUT = 15.0
_STOPPED_SESSIONS = (ConnectionStatus.logged_out, ConnectionStatus.banned)
# The Postgres advisory lock every worker of an installation takes to upgrade the WhatsApp
# session store (a fixed 64-bit number; advisory locks are per database).
_STORE_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"atende:whatsapp-store").digest()[:8], "big", signed=True
)
_FILE_LOCK_POLL = 0.05

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process at a time, by hand
    fcntl = None  # type: ignore[assignment]


@runtime_checkable
class CanLogOut(Protocol):
    """A channel that can unlink its account (the neonize one)."""

    async def logout(self) -> None: ...


def _phone_of(account: str) -> str | None:
    """The E.164 number of a paired account's JID (`5511…[:device]@s.whatsapp.net`)."""
    user, _, server = account.partition("@")
    user = user.split(":", 1)[0].split(".", 1)[0]
    if server in ("s.whatsapp.net", "c.us") and user.isdigit():
        return "+" + user
    return None


def state_fields(change: StateChange) -> dict[str, Any]:
    """The connection's columns after this state change.

    The QR code and pairing code live only while the connection waits for a login; a login
    records the account (and its number) and ends the pairing-code request; a logout forgets
    the account."""
    fields: dict[str, Any] = {
        "status": ConnectionStatus(change.state.value),
        "status_detail": change.detail[:500],
    }
    if change.state is ConnectionState.qrcode:
        if change.qr_code is not None:
            fields["qr_code"] = change.qr_code
        if change.pairing_code is not None:
            fields["pairing_code"] = change.pairing_code[:16]
    else:
        fields["qr_code"] = None
        fields["pairing_code"] = None
    if change.state is ConnectionState.connected and change.account:
        fields["wa_jid"] = change.account[:100]
        fields["pairing_phone"] = None
        number = _phone_of(change.account)
        if number is not None:
            fields["phone_number"] = number
    if change.state is ConnectionState.logged_out:
        fields["wa_jid"] = None
    return fields


@asynccontextmanager
async def whatsapp_store_lock(store: str) -> AsyncIterator[None]:
    """Held by one worker at a time while it upgrades the WhatsApp session store: two workers
    starting connections together on a fresh database would otherwise run whatsmeow's schema
    upgrade side by side, and one of them fail. A Postgres store is our database, locked with
    a transaction-scoped advisory lock (pooled sessions keep no session locks, see db.py);
    a SQLite store with a lock file beside it."""
    if store.startswith(("postgres://", "postgresql://")):
        async with in_transaction():
            # Sql runs on the current connection: this transaction's, which holds the lock.
            await Sql().execute("SELECT pg_advisory_xact_lock(:key)", key=_STORE_LOCK_KEY)
            yield
        return
    if fcntl is None:  # pragma: no cover
        yield
        return
    # Polled, not a blocking flock in a thread: a wait that is cancelled must not take it later.
    while True:
        handle = _try_lock(Path(f"{store}.lock"))
        if handle is not None:
            break
        await asyncio.sleep(_FILE_LOCK_POLL)
    try:
        yield
    finally:
        handle.close()  # flock belongs to the open file: closing it (or dying) releases it


def _try_lock(path: Path) -> IO[bytes] | None:
    """The open file, locked; None while another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def fake_whatsapp_for_tests(hub: ChannelHub, settings: Settings) -> bool:
    """TEST ONLY: with ATENDE_FAKE_WHATSAPP=1 (tests that start real processes), WhatsApp
    connections run on a sandbox channel instead of reaching WhatsApp. True when it applies.
    With ATENDE_SANDBOX_JOURNAL, sandbox channels journal their sends (service.sandbox.journal)."""
    clock = hub._clock
    journal = settings.atende_sandbox_journal
    if journal:
        hub.sandbox_factory = lambda cid: JournaledSandbox(cid, clock=clock, journal=journal)
    if not settings.atende_fake_whatsapp:
        return False
    hub.whatsapp_factory = lambda connection: SandboxChannel(connection.id, clock=clock)
    return True


class ChannelHub:
    """Everything about channels one worker needs: sessions, leases, pipeline and sender."""

    def __init__(
        self,
        *,
        settings: Settings,
        broker: Broker,
        clock: Clock,
        leases: Leases,
        health: LoopHealth | None = None,
    ) -> None:
        self.broker = broker
        self._health = health or LoopHealth()
        self.leases = leases
        self._settings = settings
        self._clock = clock
        # Replaced by tests (and ATENDE_FAKE_WHATSAPP) with a channel that needs no WhatsApp.
        self.whatsapp_factory: WhatsAppFactory = self._neonize_channel
        # Where the WhatsApp sessions are kept (tests point it at a fresh store).
        self.whatsapp_store = settings.whatsapp_store
        self.sandbox_factory: Callable[[int], SandboxChannel] = partial(SandboxChannel, clock=clock)
        self.sender = OutboundSender(
            channels=self._running_channel,
            broker=broker,
            clock=clock,
            elsewhere=self._send_elsewhere,
        )
        self.recovery = OutboundRecovery(
            sender=self.sender, broker=broker, clock=clock, running=self._running_ids
        )
        self.sessions = SessionManager(
            factory=self._make_channel, events=self, on_running=self.recovery.connection_running
        )
        self.pipeline = Pipeline(
            broker=broker, sender=self.sender, clock=clock, default_country=settings.default_country
        )
        self._owned: set[int] = set()  # WhatsApp connections whose lease this worker holds
        self._renewed_at: dict[int, float] = {}
        # The pairing phone each running WhatsApp channel was built with (None: QR login).
        self._logins: dict[int, str | None] = {}
        # Connections being stopped on purpose: what their channel reports meanwhile is stale.
        self._stopping: set[int] = set()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._commands: set[asyncio.Task[None]] = set()
        # Redis pub/sub ignores the database number: another installation on the same Redis
        # server hears our commands; they carry this mark so that it ignores them.
        self._site = installation_mark(settings.effective_database_url)

    def _running_channel(self, connection_id: int) -> Channel | None:
        return self.sessions.channel(connection_id)

    def _running_ids(self) -> list[int]:
        return self.sessions.running

    @property
    def worker_id(self) -> str:
        return self.leases.worker_id

    @property
    def owned(self) -> list[int]:
        """The WhatsApp connections this worker holds the lease of (and runs)."""
        return sorted(self._owned)

    async def start(self) -> None:
        """Start every active sandbox connection, take the WhatsApp connections nobody runs,
        listen for commands, then finish what a crash left half-done."""
        ids = await Connection.filter(is_active=True, channel=ChannelKind.sandbox).values_list(
            "id", flat=True
        )
        for connection_id in ids:
            await self.sessions.start(int(str(connection_id)))
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.listen_for_commands(), name="channel-commands"),
            loop.create_task(self.run_leases(), name="channel-leases"),
        ]
        recovered = await self.pipeline.recover()
        if recovered:
            log.info("processed the unprocessed messages of %s tickets", recovered)

    async def stop(self, *, detail: str = "worker stopped") -> None:
        """Stop every channel and give up every lease (another worker takes them over)."""
        for task in [*self._tasks, *self._commands]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._commands, return_exceptions=True)
        self._tasks = []
        async with self._lock:
            for connection_id in sorted(self._owned):
                await self._drop(connection_id, detail=detail)
        await self.sessions.stop_all()

    def wake(self) -> None:
        """Run the lease loop now (a connection was activated, deactivated or deleted)."""
        self._wake.set()

    async def run_leases(self, *, only: int | None = None) -> None:
        """Every third of the lease time: renew, take and drop (`only`: just this connection)."""
        await self._health.every(
            "leases", partial(self.tick, only=only), self.leases.ttl_seconds / 3, wake=self._wake
        )

    async def tick(self, *, only: int | None = None) -> None:
        """One lease round: keep running what is ours and active, stop what was lost,
        deactivated or deleted, and start what nobody runs."""
        query = Connection.filter(is_active=True, channel=ChannelKind.whatsapp)
        if only is not None:
            query = query.filter(id=only)
        rows = await query.values_list("id", "pairing_phone")
        wanted: dict[int, str | None] = {int(str(cid)): phone for cid, phone in rows}
        async with self._lock:
            ours = self._owned if only is None else self._owned & {only}
            for connection_id in sorted(ours):
                await self._keep_or_drop(connection_id, wanted)
            for connection_id in sorted(wanted.keys() - self._owned):
                await self._take(connection_id)

    async def sandbox(self, connection_id: int) -> SandboxChannel:
        """The running sandbox channel of a connection (started on first use)."""
        channel = self.sessions.channel(connection_id)
        if channel is None:
            await self.sessions.start(connection_id)
            channel = self.sessions.channel(connection_id)
        assert isinstance(channel, SandboxChannel)
        return channel

    async def restart(self, connection: Connection) -> None:
        """(Re)start a connection: here if this worker runs it or can take its lease,
        otherwise by the worker that runs it."""
        if connection.channel == ChannelKind.sandbox:
            await self._restart_here(connection.id, wait=True)
            return
        async with self._lock:
            if connection.id in self._owned:
                await self._restart_here(connection.id)
                return
            if await self._take(connection.id):
                return
        await self._command(connection.id, "restart")

    async def stop_connection(self, connection: Connection) -> None:
        """Stop running a connection (its session is kept), wherever it runs."""
        if connection.channel == ChannelKind.sandbox:
            await self._stop_quietly(connection.id)
            return
        async with self._lock:
            if connection.id in self._owned:
                await self._drop(connection.id, detail="stopped")
                return
        await self._command(connection.id, "stop")

    async def logout(self, connection: Connection) -> None:
        """Unlink the WhatsApp account and stop, wherever the connection runs."""
        if connection.channel == ChannelKind.sandbox:
            await self._stop_quietly(connection.id)
            return
        async with self._lock:
            if connection.id in self._owned:
                await self._logout_here(connection.id)
                return
        await self._command(connection.id, "logout")

    async def mark_read(
        self, connection_id: int, chat: str, channel_message_ids: Sequence[str]
    ) -> None:
        """Blue ticks for these inbound messages, by whichever worker runs the connection."""
        if not channel_message_ids:
            return
        channel = self.sessions.channel(connection_id)
        if channel is not None:
            await self._best_effort(connection_id, channel.mark_read(chat, channel_message_ids))
        elif connection_id not in self._owned:
            ids = list(channel_message_ids)
            await self._command(connection_id, "mark_read", chat=chat, ids=ids)

    async def set_typing(self, connection_id: int, chat: str, typing: bool) -> None:
        """Show the customer that an agent is typing, by whichever worker runs the connection."""
        channel = self.sessions.channel(connection_id)
        if channel is not None:
            await self._best_effort(connection_id, channel.set_typing(chat, typing))
        elif connection_id not in self._owned:
            await self._command(connection_id, "set_typing", chat=chat, typing=typing)

    # bot.channel.ChannelEvents
    async def on_message(self, message: InboundMessage) -> None:
        await self.pipeline.receive(message)

    async def on_receipt(self, receipt: Receipt) -> None:
        if self.sender.holds(receipt):
            return  # a conversation's send being recorded now: applied once it is
        message = await self.sender.receipt(receipt)
        if message is not None:
            await self.broker.publish(message_updated(message))
            return
        # Not a conversation's message: perhaps a campaign's (kept by the sender meanwhile,
        # for a campaign send whose id is not stored yet: the runner takes it then).
        matched = await campaign_receipt(
            connection_id=receipt.connection_id,
            channel_message_id=receipt.channel_message_id,
            status=receipt.status,
            at=receipt.timestamp,
            broker=self.broker,
        )
        if matched:
            self.sender.take_early(receipt.connection_id, receipt.channel_message_id)

    async def on_group_renamed(self, change: GroupRenamed) -> None:
        company_id = await (
            Connection.filter(id=change.connection_id).first().values_list("company_id", flat=True)
        )
        if company_id is not None:
            await follow_group_subject(
                company_id=int(str(company_id)),
                group=change.group,
                subject=change.subject,
                broker=self.broker,
            )

    async def on_state(self, change: StateChange) -> None:
        connection_id = change.connection_id
        if connection_id in self._stopping:
            return
        if change.state is ConnectionState.connected and change.account:
            self._logins[connection_id] = None  # logged in: the pairing request is done
        await Connection.filter(id=connection_id).update(**state_fields(change))
        await self._announce(connection_id)
        if change.state is ConnectionState.connected:
            await self.sender.retry_pending(connection_id)

    # Channels
    async def _make_channel(self, connection_id: int) -> Channel:
        connection = await Connection.get(id=connection_id)
        if connection.channel == ChannelKind.whatsapp:
            self._logins[connection_id] = connection.pairing_phone
            return self.whatsapp_factory(connection)
        return self.sandbox_factory(connection_id)

    def _neonize_channel(self, connection: Connection) -> Channel:
        # Imported here: neonize costs half a second and 50 MB, which a process without a
        # WhatsApp connection should not pay.
        from bot.neonize_channel import NeonizeChannel

        settings = self._settings
        return NeonizeChannel(
            connection.id,
            store=self.whatsapp_store,
            store_lock=partial(whatsapp_store_lock, self.whatsapp_store),
            account=connection.wa_jid,
            pairing_phone=connection.pairing_phone,
            media_dir=settings.effective_media_dir,
            media_max_bytes=settings.media_max_bytes,
        )

    async def _restart_here(self, connection_id: int, *, wait: bool = False) -> None:
        await self._stop_quietly(connection_id)
        task = self.sessions.start(connection_id)
        if wait:  # only the sandbox: it never fails to start
            await task

    async def _stop_quietly(self, connection_id: int) -> None:
        self._stopping.add(connection_id)
        try:
            await self.sessions.stop(connection_id)
        finally:
            self._stopping.discard(connection_id)

    async def _logout_here(self, connection_id: int) -> None:
        channel = self.sessions.channel(connection_id)
        if isinstance(channel, CanLogOut):
            # What it reports while logging out (logged out, a new QR code) is not wanted.
            self._stopping.add(connection_id)
            try:
                await asyncio.wait_for(channel.logout(), timeout=_LOGOUT_TIMEOUT)
            except Exception as exc:
                # Offline, say: the phone still lists the device until its owner removes it.
                log.warning(
                    "connection %s could not log out: %r",
                    connection_id,
                    exc,
                    extra={"connection_id": connection_id},
                )
        await self._drop(connection_id, detail="logged out")

    async def _best_effort(self, connection_id: int, call: Coroutine[Any, Any, None]) -> None:
        """Read marks and typing are courtesies: a failure is logged, never raised."""
        try:
            await call
        except Exception as exc:
            log.warning(
                "connection %s: %r", connection_id, exc, extra={"connection_id": connection_id}
            )

    # Leases (called with self._lock held)
    async def _take(self, connection_id: int) -> bool:
        try:
            acquired = await self.leases.acquire(connection_lease(connection_id))
        except Exception:
            log.exception("could not take the lease of connection %s", connection_id)
            return False
        if not acquired:
            return False
        self._owned.add(connection_id)
        self._renewed_at[connection_id] = time.monotonic()
        log.info(
            "worker %s runs connection %s",
            self.worker_id,
            connection_id,
            extra={"connection_id": connection_id},
        )
        self.sessions.start(connection_id)
        return True

    async def _keep_or_drop(self, connection_id: int, wanted: dict[int, str | None]) -> None:
        if connection_id not in wanted:
            await self._drop(connection_id, detail="stopped")
            return
        if not await self._renew(connection_id):
            log.warning(
                "worker %s lost the lease of connection %s",
                self.worker_id,
                connection_id,
                extra={"connection_id": connection_id},
            )
            await self._drop(connection_id, detail="", lease_lost=True)
            return
        phone = wanted[connection_id]
        started_with = self._logins.get(connection_id, phone)
        if phone is not None and phone != started_with:
            # A login by pairing code for another number was asked for (the API or
            # `atende connect`): the channel must be built again to request it.
            await self._restart_here(connection_id)

    async def _renew(self, connection_id: int) -> bool:
        try:
            renewed = await self.leases.renew(connection_lease(connection_id))
        except Exception:
            log.exception("could not renew the lease of connection %s", connection_id)
            # Still ours as long as it cannot have expired yet.
            age = time.monotonic() - self._renewed_at.get(connection_id, 0.0)
            return age < self.leases.ttl_seconds
        if renewed:
            self._renewed_at[connection_id] = time.monotonic()
        return renewed

    async def _drop(self, connection_id: int, *, detail: str, lease_lost: bool = False) -> None:
        """Stop running a connection and give its lease up (a lost lease is the new owner's:
        neither its status nor its lease is touched)."""
        self._renewed_at.pop(connection_id, None)
        self._logins.pop(connection_id, None)
        try:
            await self._stop_quietly(connection_id)
            if not lease_lost:
                await self._record_stopped(connection_id, detail)
        finally:
            # Not ours before the lease is free: once another worker can take it, this one
            # must no longer answer for the connection.
            self._owned.discard(connection_id)
            if not lease_lost:
                await self._release(connection_id)

    async def _record_stopped(self, connection_id: int, detail: str) -> None:
        # A logged-out or banned number keeps saying so: that is what its admin must know.
        updated = (
            await Connection.filter(id=connection_id)
            .exclude(status__in=_STOPPED_SESSIONS)
            .update(
                status=ConnectionStatus.disconnected,
                status_detail=detail,
                qr_code=None,
                pairing_code=None,
            )
        )
        if updated:
            await self._announce(connection_id)

    async def _release(self, connection_id: int) -> None:
        try:
            await self.leases.release(connection_lease(connection_id))
        except Exception:
            # It expires by itself within the lease time.
            log.exception("could not release the lease of connection %s", connection_id)

    # Commands between workers
    async def _command(self, connection_id: int, action: str, **data: Any) -> None:
        """Ask the worker that runs the connection to act (nobody acts if nobody runs it)."""
        payload = {"site": self._site, "connection_id": connection_id, "action": action, **data}
        event = {"type": COMMAND, "data": payload}
        try:
            await self.broker.publish(event)
        except Exception:
            # Pending messages go on reconnect, and the lease loop restarts and stops anyway.
            log.exception("could not send %s to connection %s", action, connection_id)

    async def _send_elsewhere(self, connection_id: int) -> None:
        if connection_id not in self._owned:  # ours but still starting: sent once connected
            await self._command(connection_id, "retry_pending")

    async def listen_for_commands(self) -> None:
        """Act on the commands for the connections this worker runs, until cancelled."""
        while True:
            try:
                async for event in self.broker.listen(internal_only=True):
                    if event.get("type") == SUBSCRIBED:
                        self._health.ok("commands")
                    elif event.get("type") == COMMAND and isinstance(event.get("data"), dict):
                        self._spawn(self._obey(event["data"]))
                reason: BaseException | str = "the subscription ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = exc
            failures = self._health.failed("commands", reason)
            await asyncio.sleep(backoff_seconds(failures))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _obey(self, data: dict[str, Any]) -> None:
        """Act on a command for a connection this worker runs (others ignore it)."""
        connection_id = data.get("connection_id")
        if data.get("site") != self._site:
            return
        if not isinstance(connection_id, int) or connection_id not in self._owned:
            return
        try:
            await self._act(connection_id, str(data.get("action")), data)
        except Exception:
            log.exception(
                "command %s for connection %s failed",
                data.get("action"),
                connection_id,
                extra={"connection_id": connection_id},
            )

    async def _act(self, connection_id: int, action: str, data: dict[str, Any]) -> None:
        channel = self.sessions.channel(connection_id)
        if action == "retry_pending":
            await self.sender.retry_pending(connection_id)
        elif action == "mark_read" and channel is not None:
            await channel.mark_read(str(data.get("chat")), [str(i) for i in data.get("ids", [])])
        elif action == "set_typing" and channel is not None:
            await channel.set_typing(str(data.get("chat")), bool(data.get("typing")))
        elif action in ("restart", "stop", "logout"):
            async with self._lock:
                if connection_id not in self._owned:
                    return
                if action == "restart":
                    await self._restart_here(connection_id)
                elif action == "stop":
                    await self._drop(connection_id, detail="stopped")
                else:
                    await self._logout_here(connection_id)

    async def _announce(self, connection_id: int) -> None:
        connection = await Connection.get_or_none(id=connection_id)
        if connection is not None:
            await self.broker.publish_many(connection_updated(connection))
