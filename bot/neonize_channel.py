"""Real WhatsApp through neonize (whatsmeow): the only module that imports neonize.

One `NeonizeChannel` per `whatsapp` connection, several in a process. Facts this module
relies on (neonize 0.5.2, see shared/research/neonize-and-rasa-sdk.md):

- `await client.connect()` only starts a task; the task ends when the client stops, or at
  once with an error when WhatsApp can't be reached. whatsmeow reconnects a live session by
  itself; when the task itself ends, `_run` starts a new client after a jittered backoff.
- neonize runs async handlers concurrently and drops their exceptions. Every handler here
  only queues work on a per-chat lane, which runs one job at a time in arrival order and
  logs each failure with the connection id.
- The event loop neonize dispatches to is a module global set by the first `connect()`;
  each start sets it to the running loop.
- Sessions live in one store (our Postgres, or a SQLite file) for every connection, so an
  existing session is always resumed by its account JID and a new one is paired as a new
  device, never "the first device in the store".
- Every client neonize starts opens the store anew and runs whatsmeow's schema upgrade on it,
  without a lock: two clients starting together on a fresh store both create its tables, and
  one fails ("duplicate key … pg_type_typname_nsp_index", "column compat … already exists").
  `prepare_store` upgrades it once, before the first client of the process, holding the
  lock it is given across workers; afterwards a client's upgrade only reads the version.
- `client.stop()` reaches only a client the Go core has registered, which it does after
  opening the store; and the Go call runs in a thread that cancelling its task does not stop.
  A channel stopped that early would leave a client that still comes up, beside the next
  one of its connection, so `stop()` stops it again until the Go call is over or heard from.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import mimetypes
import random
import re
import threading
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neonize._binder import func_callback_bytes2, gocode
from neonize.aioze import events as neonize_events
from neonize.aioze.client import NewAClient
from neonize.aioze.events import (
    ConnectedEv,
    ConnectFailureEv,
    DisconnectedEv,
    GroupInfoEv,
    LoggedOutEv,
    MessageEv,
    PairStatusEv,
    ReceiptEv,
    StreamReplacedEv,
    TemporaryBanEv,
)
from neonize.exc import (
    DownloadError,
    GetGroupInfoError,
    GetJIDFromStoreError,
    MarkReadError,
    NeonizeError,
    PairPhoneError,
    SendMessageError,
    SendPresenceError,
    UploadError,
)
from neonize.proto.Neonize_pb2 import JID, ConnectFailureReason
from neonize.proto.Neonize_pb2 import Receipt as ReceiptProto
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    AudioMessage,
    ContextInfo,
    DocumentMessage,
    ExtendedTextMessage,
    ImageMessage,
    Message,
    ProtocolMessage,
    VideoMessage,
)
from neonize.utils.enum import ChatPresence, ChatPresenceMedia, MediaType, ReceiptType
from neonize.utils.jid import Jid2String, build_jid
from neonize.utils.log import log_whatsmeow

from bot.channel import (
    ChannelEvents,
    ChannelUnavailable,
    ConnectionState,
    GroupRenamed,
    InboundMessage,
    MediaKind,
    MediaRef,
    OutboundMessage,
    Receipt,
    SendFailed,
    StateChange,
)
from bot.jids import is_group_jid
from bot.sessions import Backoff

__all__ = [
    "NeonizeChannel",
    "StoreLock",
    "StoreNotReady",
    "content_of",
    "parse_jid",
    "prepare_store",
]

log = logging.getLogger("atende.whatsapp")

_USER_SERVER = "s.whatsapp.net"
_LID_SERVER = "lid"
_GROUP_SERVER = "g.us"
_RECEIPTS = {
    ReceiptProto.DELIVERED: "delivered",
    ReceiptProto.READ: "read",
    ReceiptProto.PLAYED: "played",
}
_LOGOUT_REASONS = {
    ConnectFailureReason.LOGGED_OUT,
    ConnectFailureReason.MAIN_DEVICE_GONE,
    ConnectFailureReason.UNKNOWN_LOGOUT,
}
_UPLOAD_TYPES: dict[str, Any] = {
    "image": MediaType.MediaImage,
    "video": MediaType.MediaVideo,
    "audio": MediaType.MediaAudio,
    "document": MediaType.MediaDocument,
}
# Each live neonize session holds a thread of the default executor for its whole life, and
# every other call into Go borrows one too: the default pool (6 threads on 2 CPUs) would be
# exhausted by a handful of numbers.
_THREADS = 64
_loops_with_threads: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
# How long stop() keeps stopping a client the Go core may not have registered yet (it is
# opening the store): past this, the store is too slow for it to come up any time soon.
_RETIRE_SECONDS = 5.0
_RETIRE_POLL = 0.1


# --- the session store ----------------------------------------------------------------

StoreLock = Callable[[], AbstractAsyncContextManager[Any]]
"""Held while the store's schema is upgraded: excludes the other workers of the installation."""


class StoreNotReady(Exception):
    """whatsmeow could not open the session store or bring its schema up to date."""


_prepared_stores: set[str] = set()
_upgrading = threading.Lock()
_go_log = func_callback_bytes2(log_whatsmeow)  # kept alive for as long as Go may call it


def _upgrade_store(store: str) -> None:
    with _upgrading:
        if store in _prepared_stores:
            return
        # neonize's one call that opens the store (which runs whatsmeow's upgrade) without
        # starting a client; it answers "error: …" rather than the sessions when it fails.
        answer = gocode.GetAllDevices(store.encode(), _go_log).decode(errors="replace")
        if answer.startswith("error: "):
            raise StoreNotReady(answer.removeprefix("error: "))
        _prepared_stores.add(store)


async def prepare_store(store: str, *, exclusive: StoreLock | None = None) -> None:
    """The store is at whatsmeow's current schema: upgraded once per process, one upgrade at a
    time in it, and under `exclusive` (which keeps the other workers out) while it runs.

    A failed upgrade is retried by the next call. whatsmeow upgrades in transactions, so one
    that died half-way (a crash, or the races this prevents) left nothing to undo."""
    if store in _prepared_stores:
        return
    async with exclusive() if exclusive is not None else contextlib.nullcontext():
        upgrade = asyncio.ensure_future(asyncio.to_thread(_upgrade_store, store))
        try:
            await asyncio.shield(upgrade)
        except asyncio.CancelledError:
            # The Go call runs on in its thread: the lock is kept until it is over.
            await asyncio.gather(upgrade, return_exceptions=True)
            raise


def parse_jid(text: str) -> JID:
    """`user[.agent][:device]@server` (what `Jid2String` writes) back into a JID."""
    user_part, _, server = text.partition("@")
    if not server:
        return build_jid(user_part)
    user_agent, _, device = user_part.partition(":")
    user, _, agent = user_agent.partition(".")
    jid = build_jid(user, server)
    jid.Device = int(device or 0)
    jid.RawAgent = int(agent or 0)
    return jid


def _recipient(to: str) -> JID:
    """Our contact number (+E.164) or a group's JID string, as a JID."""
    if "@" in to:
        return parse_jid(to)
    return build_jid(re.sub(r"\D", "", to))


# --- inbound translation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Content:
    """What a WhatsApp message says, before the sender and media download are resolved."""

    text: str
    media_kind: MediaKind | None = None
    media: Any = None  # the neonize media submessage (imageMessage, …), for the download
    quoted_id: str | None = None
    edit_of: str | None = None
    revoke_of: str | None = None


_MEDIA_FIELDS: tuple[tuple[str, MediaKind], ...] = (
    ("imageMessage", "image"),
    ("videoMessage", "video"),
    ("ptvMessage", "video"),
    ("audioMessage", "audio"),
    ("documentMessage", "document"),
    ("stickerMessage", "sticker"),
)


def content_of(message: Any) -> Content | None:
    """The text, media and references of a message; None for kinds with nothing to show."""
    if message.HasField("protocolMessage"):
        return _protocol_content(message.protocolMessage)
    if message.HasField("editedMessage"):
        return content_of(message.editedMessage.message)
    if message.conversation:
        return Content(text=message.conversation)
    if message.HasField("extendedTextMessage"):
        extended = message.extendedTextMessage
        return Content(text=extended.text, quoted_id=_quoted(extended))
    for field, kind in _MEDIA_FIELDS:
        if message.HasField(field):
            part = getattr(message, field)
            caption = part.caption if hasattr(part, "caption") else ""
            return Content(text=caption, media_kind=kind, media=part, quoted_id=_quoted(part))
    if message.HasField("documentWithCaptionMessage"):
        return content_of(message.documentWithCaptionMessage.message)
    if message.HasField("locationMessage") or message.HasField("liveLocationMessage"):
        place = message.locationMessage if message.HasField("locationMessage") else None
        part = place or message.liveLocationMessage
        return Content(text=_location_text(part), media_kind="location", quoted_id=_quoted(part))
    if message.HasField("contactMessage"):
        part = message.contactMessage
        return Content(text=_contact_text(part), media_kind="contact", quoted_id=_quoted(part))
    if message.HasField("contactsArrayMessage"):
        contacts = message.contactsArrayMessage.contacts
        text = "\n".join(_contact_text(contact) for contact in contacts)
        return Content(text=text, media_kind="contact")
    reply = _reply_text(message)
    if reply is not None:
        return Content(text=reply)
    return None


def _protocol_content(protocol: Any) -> Content | None:
    if protocol.type == ProtocolMessage.REVOKE and protocol.key.ID:
        return Content(text="", revoke_of=protocol.key.ID)
    if protocol.type == ProtocolMessage.MESSAGE_EDIT and protocol.key.ID:
        edited = content_of(protocol.editedMessage)
        return Content(text=edited.text if edited else "", edit_of=protocol.key.ID)
    return None  # key shares, history sync notices and the like: nothing for a person


def _quoted(part: Any) -> str | None:
    if part.HasField("contextInfo") and part.contextInfo.stanzaID:
        return str(part.contextInfo.stanzaID)
    return None


def _location_text(part: Any) -> str:
    latitude, longitude = part.degreesLatitude, part.degreesLongitude
    label = " — ".join(x for x in (getattr(part, "name", ""), getattr(part, "address", "")) if x)
    link = f"https://maps.google.com/?q={latitude:.6f},{longitude:.6f}"
    return f"📍 {label}\n{link}" if label else f"📍 {link}"


def _contact_text(part: Any) -> str:
    numbers = re.findall(r"waid=(\d+)", part.vcard) or re.findall(
        r"TEL[^:]*:([+\d ()-]+)", part.vcard
    )
    phones = ", ".join(f"+{n}" if n.isdigit() else n.strip() for n in numbers)
    return f"👤 {part.displayName}" + (f": {phones}" if phones else "")


def _reply_text(message: Any) -> str | None:
    """A tap on a button or a list row: what the customer saw, as if they had typed it."""
    if message.HasField("buttonsResponseMessage"):
        part = message.buttonsResponseMessage
        return str(part.selectedDisplayText or part.selectedButtonID)
    if message.HasField("listResponseMessage"):
        part = message.listResponseMessage
        return str(part.title or part.singleSelectReply.selectedRowID)
    if message.HasField("templateButtonReplyMessage"):
        part = message.templateButtonReplyMessage
        return str(part.selectedDisplayText or part.selectedID)
    if message.HasField("interactiveResponseMessage"):
        part = message.interactiveResponseMessage
        if part.body.text:
            return str(part.body.text)
        try:
            params = json.loads(part.nativeFlowResponseMessage.paramsJSON or "{}")
        except ValueError:
            params = {}
        for key in ("title", "display_text", "id"):
            if isinstance(params, dict) and params.get(key):
                return str(params[key])
        return str(part.nativeFlowResponseMessage.name)
    return None


def _timestamp(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC) if milliseconds else datetime.now(UTC)


# --- per-chat lanes -----------------------------------------------------------------


class _Lanes:
    """Runs jobs one at a time per key, in the order they were queued; keys run side by side."""

    def __init__(self, connection_id: int) -> None:
        self._connection_id = connection_id
        self._queues: dict[str, deque[tuple[str, Callable[[], Awaitable[None]]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, key: str, what: str, job: Callable[[], Awaitable[None]]) -> None:
        self._queues.setdefault(key, deque()).append((what, job))
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._drain(key))

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                what, job = queue.popleft()
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception(
                        "connection %s: %s failed",
                        self._connection_id,
                        what,
                        extra={"connection_id": self._connection_id},
                    )
        finally:
            del self._workers[key]
            if not queue:
                del self._queues[key]

    async def drain(self) -> None:
        """Wait for everything queued so far (and what it queues) to finish."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    def cancel(self) -> None:
        for task in self._workers.values():
            task.cancel()


# --- the channel --------------------------------------------------------------------


class NeonizeChannel:
    """Implements bot.channel.Channel for one real WhatsApp number."""

    def __init__(
        self,
        connection_id: int,
        *,
        store: str,
        account: str | None,
        pairing_phone: str | None,
        media_dir: Path,
        media_max_bytes: int,
        store_lock: StoreLock | None = None,
        backoff: Backoff = Backoff(base=2.0, cap=120.0),
        client_factory: Callable[..., Any] = NewAClient,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.connection_id = connection_id
        self._store = store
        self._account = account
        self._pairing_phone = pairing_phone
        self._media_dir = media_dir
        self._media_max_bytes = media_max_bytes
        self._store_lock = store_lock
        self._backoff = backoff
        self._client_factory = client_factory
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._events: ChannelEvents | None = None
        self._state = ConnectionState.disconnected
        self._client: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._lanes = _Lanes(connection_id)
        self._pairing_requested = False
        self._restart_for_login = False
        # The clients the Go core has called back: registered there, so a stop reaches them.
        self._heard_from: weakref.WeakSet[Any] = weakref.WeakSet()
        # The groups whose subject was asked for since connecting: once each, on the group's
        # first message (renames come as GroupInfo events), not on every message.
        self._asked_groups: set[str] = set()

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def client(self) -> Any:
        """The live neonize client (tests feed events through its dispatcher)."""
        return self._client

    async def start(self, events: ChannelEvents) -> None:
        self._events = events
        self._stopping = False
        loop = asyncio.get_running_loop()
        if loop not in _loops_with_threads:
            loop.set_default_executor(ThreadPoolExecutor(max_workers=_THREADS))
            _loops_with_threads.add(loop)
        self._runner = loop.create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        # The loop first, so that it starts no client after the one stopped here.
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        client, self._client = self._client, None
        if client is not None:
            await self._retire(client)
        await self._lanes.drain()
        await self._report(ConnectionState.disconnected, "stopped")
        self._events = None

    async def drain(self) -> None:
        """Wait until every event received so far has been handled (for tests and shutdown)."""
        await self._lanes.drain()

    async def logout(self) -> None:
        """Unlink this number from WhatsApp; the session is deleted from the store."""
        client = self._client
        if client is not None and self._state is ConnectionState.connected:
            try:
                await client.logout()
            except NeonizeError as exc:
                log.warning("connection %s: logout failed: %s", self.connection_id, exc)
        self._account = None
        await self._report(ConnectionState.logged_out, "logged out")

    # -- running the client ----------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            self._pairing_requested = False
            self._restart_for_login = False
            await self._report(ConnectionState.connecting)
            reason = "the connection ended"
            client = None
            try:
                await prepare_store(self._store, exclusive=self._store_lock)
                client = self._new_client()
                self._client = client
                task = await client.connect()
                # Shielded: stopping cancels this loop, and stop() sees the Go call through.
                await asyncio.shield(task)
            except asyncio.CancelledError:
                raise
            except (NeonizeError, StoreNotReady) as exc:
                reason = str(exc)
            except Exception as exc:
                log.exception("connection %s: the client failed", self.connection_id)
                reason = f"{type(exc).__name__}: {exc}"
            if client is not None:
                await _quietly(client.stop())  # what Go still holds of it, before the next one
            await self._lanes.drain()
            if self._stopping:
                return
            if self._restart_for_login:
                attempt = 0  # a logout: show a new QR code right away
                continue
            if self._state is ConnectionState.connected:
                attempt = 0
            if self._state is not ConnectionState.banned:
                await self._report(ConnectionState.disconnected, reason)
            delay = self._backoff.delay(attempt, self._rng)
            log.info(
                "connection %s: reconnecting in %.1fs (%s)",
                self.connection_id,
                delay,
                reason,
                extra={"connection_id": self.connection_id},
            )
            attempt += 1
            await self._sleep(delay)

    async def _retire(self, client: Any) -> None:
        """Stop a client for good: until its Go call is over or has called back (registered,
        so reached by the stop), or for `_RETIRE_SECONDS` at most."""
        task = getattr(client, "connect_task", None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _RETIRE_SECONDS
        while True:
            await _quietly(client.stop())
            if task is None or task.done() or client in self._heard_from:
                break
            if loop.time() >= deadline:
                log.warning(
                    "connection %s: the WhatsApp client did not stop in %.0fs",
                    self.connection_id,
                    _RETIRE_SECONDS,
                    extra={"connection_id": self.connection_id},
                )
                break
            await asyncio.wait({task}, timeout=_RETIRE_POLL)
        if task is None:
            return
        if not task.done():
            # Waiting for a QR code to be scanned (whatsmeow ends it when the codes run out):
            # stopped, its socket closed; nothing left to wait for.
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)  # its error, if any, is seen

    def _new_client(self) -> Any:
        # neonize dispatches to the loop of the first connect() of the process.
        neonize_events.event_global_loop = asyncio.get_running_loop()
        if self._account:
            client = self._client_factory(self._store, jid=parse_jid(self._account))
        else:
            client = self._client_factory(
                self._store,
                uuid=f"atende-{self.connection_id}-{uuid.uuid4().hex[:8]}",
                new_device=True,
            )
        handlers: list[tuple[type[Any], Callable[[Any, Any], Awaitable[None]]]] = [
            (MessageEv, self._on_message_event),
            (ReceiptEv, self._on_receipt_event),
            (GroupInfoEv, self._on_group_info_event),
            (ConnectedEv, self._on_link_event),
            (DisconnectedEv, self._on_link_event),
            (LoggedOutEv, self._on_link_event),
            (ConnectFailureEv, self._on_link_event),
            (TemporaryBanEv, self._on_link_event),
            (StreamReplacedEv, self._on_link_event),
            (PairStatusEv, self._on_link_event),
        ]
        for event_type, handler in handlers:
            client.event(event_type)(handler)
        client.event.qr(self._on_qr)
        return client

    # -- neonize handlers: queue only, never await before queueing (keeps the order) -----

    async def _on_message_event(self, client: Any, event: Any) -> None:
        self._heard_from.add(client)
        chat = Jid2String(event.Info.MessageSource.Chat)
        self._lanes.submit(
            chat, f"message {event.Info.ID}", lambda: self._handle_message(client, event)
        )

    async def _on_receipt_event(self, client: Any, event: Any) -> None:
        self._heard_from.add(client)
        chat = Jid2String(event.MessageSource.Chat)
        self._lanes.submit(chat, "receipt", lambda: self._handle_receipt(event))

    async def _on_group_info_event(self, client: Any, event: Any) -> None:
        self._heard_from.add(client)
        chat = Jid2String(event.JID)  # the group's lane: a rename keeps its place among messages
        self._lanes.submit(chat, "group info", lambda: self._handle_group_info(event))

    async def _on_link_event(self, client: Any, event: Any) -> None:
        self._heard_from.add(client)
        name = type(event).__name__
        self._lanes.submit("", name, lambda: self._handle_link(client, event))

    async def _on_qr(self, client: Any, code: bytes) -> None:
        self._heard_from.add(client)
        self._lanes.submit("", "QR code", lambda: self._handle_qr(client, code))

    # -- what each event does ------------------------------------------------------

    async def _handle_message(self, client: Any, event: Any) -> None:
        inbound = await self._translate(client, event)
        if inbound is None or self._events is None:
            return
        await self._events.on_message(inbound)

    async def _translate(self, client: Any, event: Any) -> InboundMessage | None:
        info = event.Info
        source = info.MessageSource
        content = content_of(event.Message)
        if content is None:
            log.debug("connection %s: message %s has nothing to show", self.connection_id, info.ID)
            return None
        if source.Chat.Server not in (_USER_SERVER, _LID_SERVER, _GROUP_SERVER):
            return None  # status broadcasts, newsletters
        group = Jid2String(source.Chat) if source.IsGroup else None
        if group is not None and not is_group_jid(group):
            log.warning(
                "connection %s: message %s dropped: unusable group id %s",
                self.connection_id,
                info.ID,
                group,
                extra={"connection_id": self.connection_id},
            )
            return None
        if source.IsFromMe and group is None:
            # Sent from the business's phone: the customer is the chat, not the sender.
            sender = await self._phone_of(client, source.Chat, source.RecipientAlt)
        else:
            sender = await self._phone_of(client, source.Sender, source.SenderAlt)
        if sender is None:
            log.warning(
                "connection %s: message %s from %s dropped: no phone number for this LID",
                self.connection_id,
                info.ID,
                Jid2String(source.Sender),
                extra={"connection_id": self.connection_id},
            )
            return None
        media = await self._media(client, event, info.ID, content)
        subject = None
        if group is not None and content.edit_of is None and content.revoke_of is None:
            subject = await self._group_subject(client, source.Chat, group)
        return InboundMessage(
            connection_id=self.connection_id,
            channel_message_id=info.ID,
            sender=sender,
            push_name=info.Pushname,
            text=content.text,
            timestamp=_timestamp(info.Timestamp),
            media=media,
            quoted_id=content.quoted_id,
            from_me=bool(source.IsFromMe),
            group=group,
            edit_of=content.edit_of,
            revoke_of=content.revoke_of,
            group_subject=subject,
        )

    async def _group_subject(self, client: Any, jid: Any, group: str) -> str | None:
        """The group's subject, asked of WhatsApp on its first message since connecting;
        None after that (the service has it by then) or when WhatsApp does not answer."""
        if group in self._asked_groups:
            return None
        self._asked_groups.add(group)
        try:
            info = await client.get_group_info(jid)
        except GetGroupInfoError as exc:
            log.warning(
                "connection %s: no subject for group %s: %s",
                self.connection_id,
                group,
                exc,
                extra={"connection_id": self.connection_id},
            )
            return None
        return str(info.GroupName.Name) or None

    async def _phone_of(self, client: Any, jid: Any, alternative: Any) -> str | None:
        """The phone number behind a JID; a LID is mapped through the event or the store."""
        if jid.Server == _USER_SERVER:
            return f"+{jid.User}"
        if jid.Server != _LID_SERVER:
            return None
        if alternative.User and alternative.Server == _USER_SERVER:
            return f"+{alternative.User}"
        try:
            found = await client.get_pn_from_lid(jid)
        except GetJIDFromStoreError:
            return None
        return f"+{found.User}" if found.User and found.Server == _USER_SERVER else None

    async def _media(
        self, client: Any, event: Any, message_id: str, content: Content
    ) -> MediaRef | None:
        kind = content.media_kind
        if kind is None:
            return None
        part = content.media
        if part is None:  # a location or a contact: the text says it all
            return MediaRef(kind=kind)
        mime = part.mimetype or None
        filename = getattr(part, "fileName", "") or None
        size = int(part.fileLength) or None
        reference = _media_reference(kind, part)
        if size is not None and size > self._media_max_bytes:
            return MediaRef(kind, mime, filename, size=size, reference=reference)
        try:
            data = await client.download_any(event.Message)
        except (DownloadError, NeonizeError) as exc:
            log.warning(
                "connection %s: media of %s not downloaded: %s",
                self.connection_id,
                message_id,
                exc,
                extra={"connection_id": self.connection_id},
            )
            return MediaRef(kind, mime, filename, size=size, reference=reference)
        if len(data) > self._media_max_bytes:
            return MediaRef(kind, mime, filename, size=len(data), reference=reference)
        relative = _media_path(self.connection_id, message_id, mime, filename)
        target = self._media_dir / relative
        await asyncio.to_thread(_write_file, target, data)
        return MediaRef(kind, mime, filename, path=str(relative), size=len(data))

    async def _handle_group_info(self, event: Any) -> None:
        """whatsmeow's GroupInfo event tells of many changes; only a new subject matters here
        (`Topic` is the group's description)."""
        if not event.HasField("Name") or not event.Name.Name or self._events is None:
            return
        change = GroupRenamed(self.connection_id, Jid2String(event.JID), event.Name.Name)
        await self._events.on_group_renamed(change)

    async def _handle_receipt(self, event: Any) -> None:
        status = _RECEIPTS.get(event.Type)
        if status is None or event.MessageSource.IsFromMe or self._events is None:
            return  # our own devices' receipts, retries, server errors
        when = _timestamp(event.Timestamp)
        for message_id in event.MessageIDs:
            receipt = Receipt(self.connection_id, message_id, status, when)  # type: ignore[arg-type]
            await self._events.on_receipt(receipt)

    async def _handle_qr(self, client: Any, code: bytes) -> None:
        text = code.decode()
        pairing_code = None
        if self._pairing_phone and not self._pairing_requested:
            self._pairing_requested = True
            phone = re.sub(r"\D", "", self._pairing_phone)
            try:
                pairing_code = await client.PairPhone(phone, True)
            except PairPhoneError as exc:
                log.warning("connection %s: no pairing code: %s", self.connection_id, exc)
        await self._report(ConnectionState.qrcode, qr_code=text, pairing_code=pairing_code)

    async def _handle_link(self, client: Any, event: Any) -> None:
        if isinstance(event, ConnectedEv):
            self._asked_groups.clear()  # renames missed while away: asked again
            me = await client.get_me()
            if me.JID.User:
                self._account = Jid2String(me.JID)
            self._pairing_phone = None
            await self._report(ConnectionState.connected, account=self._account)
        elif isinstance(event, PairStatusEv):
            if event.Status == PairStatusEv.SUCCESS:
                self._account = Jid2String(event.ID)
            else:
                await self._report(ConnectionState.qrcode, f"pairing failed: {event.Error}")
        elif isinstance(event, LoggedOutEv):
            await self._logged_out(client, ConnectFailureReason.Name(event.Reason))
        elif isinstance(event, ConnectFailureEv):
            reason = ConnectFailureReason.Name(event.Reason)
            if event.Reason in _LOGOUT_REASONS:
                await self._logged_out(client, reason)
            elif event.Reason == ConnectFailureReason.TEMP_BANNED:
                await self._report(ConnectionState.banned, event.Message or reason)
            else:
                await self._report(ConnectionState.disconnected, event.Message or reason)
        elif isinstance(event, TemporaryBanEv):
            code = TemporaryBanEv.TempBanReason.Name(event.Code)
            await self._report(ConnectionState.banned, f"{code}, for {event.Expire} s")
        elif isinstance(event, StreamReplacedEv):
            await self._report(
                ConnectionState.disconnected, "another WhatsApp Web session took over"
            )
        elif isinstance(event, DisconnectedEv):
            await self._report(ConnectionState.disconnected, "WhatsApp closed the connection")

    async def _logged_out(self, client: Any, reason: str) -> None:
        """The phone unlinked us: forget the session and start a new login (a new QR)."""
        self._account = None
        self._restart_for_login = True
        await self._report(ConnectionState.logged_out, reason)
        await _quietly(client.stop())

    async def _report(
        self,
        state: ConnectionState,
        detail: str = "",
        *,
        qr_code: str | None = None,
        pairing_code: str | None = None,
        account: str | None = None,
    ) -> None:
        self._state = state
        if self._events is None:
            return
        change = StateChange(
            self.connection_id,
            state,
            detail=detail,
            qr_code=qr_code,
            pairing_code=pairing_code,
            account=account,
        )
        try:
            await self._events.on_state(change)
        except Exception:
            log.exception("connection %s: state %s not recorded", self.connection_id, state)

    # -- outbound ----------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str:
        client = self._connected_client()
        try:
            built = await self._build(client, message)
            response = await client.send_message(_recipient(message.to), built)
        except (SendMessageError, UploadError, NeonizeError) as exc:
            if self._state is not ConnectionState.connected:
                raise ChannelUnavailable(str(exc)) from exc
            raise SendFailed(str(exc)) from exc
        except OSError as exc:
            raise SendFailed(f"media file unreadable: {exc.strerror or exc}") from exc
        return str(response.ID)

    async def mark_read(self, chat: str, channel_message_ids: Sequence[str]) -> None:
        if not channel_message_ids:
            return
        client = self._connected_client()
        jid = _recipient(chat)
        try:
            await client.mark_read(
                *channel_message_ids, chat=jid, sender=jid, receipt=ReceiptType.READ
            )
        except MarkReadError as exc:
            log.warning("connection %s: mark read failed: %s", self.connection_id, exc)

    async def set_typing(self, chat: str, typing: bool) -> None:
        client = self._connected_client()
        state = (
            ChatPresence.CHAT_PRESENCE_COMPOSING if typing else ChatPresence.CHAT_PRESENCE_PAUSED
        )
        try:
            await client.send_chat_presence(
                _recipient(chat), state, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT
            )
        except SendPresenceError as exc:
            log.debug("connection %s: presence not sent: %s", self.connection_id, exc)

    def _connected_client(self) -> Any:
        if self._client is None or self._state is not ConnectionState.connected:
            raise ChannelUnavailable("the WhatsApp connection is not connected")
        return self._client

    async def _build(self, client: Any, message: OutboundMessage) -> Any:
        context = _reply_context(message)
        media = message.media
        if media is None or media.path is None or media.kind not in _UPLOAD_TYPES:
            if context is None:
                return Message(conversation=message.text)
            return Message(
                extendedTextMessage=ExtendedTextMessage(text=message.text, contextInfo=context)
            )
        data = await asyncio.to_thread((self._media_dir / media.path).read_bytes)
        upload = await client.upload(data, _UPLOAD_TYPES[media.kind])
        mime = media.mime_type or mimetypes.guess_type(media.filename or media.path)[0]
        common: dict[str, Any] = {
            "URL": upload.url,
            "directPath": upload.DirectPath,
            "mediaKey": upload.MediaKey,
            "fileEncSHA256": upload.FileEncSHA256,
            "fileSHA256": upload.FileSHA256,
            "fileLength": upload.FileLength,
            "mimetype": mime or "application/octet-stream",
        }
        if context is not None:
            common["contextInfo"] = context
        caption = message.text or None
        if media.kind == "image":
            return Message(imageMessage=ImageMessage(caption=caption, **common))
        if media.kind == "video":
            return Message(videoMessage=VideoMessage(caption=caption, **common))
        if media.kind == "audio":
            return Message(audioMessage=AudioMessage(PTT=False, **common))
        filename = media.filename or Path(media.path).name
        return Message(
            documentMessage=DocumentMessage(
                caption=caption, fileName=filename, title=filename, **common
            )
        )


def _reply_context(message: OutboundMessage) -> Any:
    if not message.quoted_id:
        return None
    return ContextInfo(
        stanzaID=message.quoted_id,
        participant=Jid2String(_recipient(message.to)),
        quotedMessage=Message(conversation=message.quoted_text or ""),
    )


def _media_reference(kind: str, part: Any) -> str:
    """What a later download needs, when the file itself is not kept."""
    return json.dumps(
        {
            "kind": kind,
            "direct_path": part.directPath,
            "media_key": base64.b64encode(part.mediaKey).decode(),
            "file_enc_sha256": base64.b64encode(part.fileEncSHA256).decode(),
            "file_sha256": base64.b64encode(part.fileSHA256).decode(),
            "file_length": int(part.fileLength),
        },
        separators=(",", ":"),
    )


def _media_path(
    connection_id: int, message_id: str, mime: str | None, filename: str | None
) -> Path:
    now = datetime.now(UTC)
    suffix = Path(filename).suffix if filename else ""
    if not suffix and mime:
        suffix = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", message_id)[:100]
    return Path("whatsapp", str(connection_id), f"{now:%Y}", f"{now:%m}", f"{safe_id}{suffix[:10]}")


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except Exception as exc:
        log.debug("ignored while stopping: %s", exc)
