"""What every WhatsApp channel speaks: the Channel protocol and plain dataclasses.

A channel turns its world (neonize events, the sandbox's HTTP calls) into these and back;
the service never sees anything channel-specific."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

__all__ = [
    "Channel",
    "ChannelEvents",
    "ChannelUnavailable",
    "ConnectionState",
    "GroupRenamed",
    "InboundMessage",
    "MediaKind",
    "MediaRef",
    "OutboundMessage",
    "Receipt",
    "SendFailed",
    "StateChange",
]

MediaKind = Literal["image", "document", "audio", "video", "sticker", "location", "contact"]


class ConnectionState(StrEnum):
    connecting = "connecting"
    qrcode = "qrcode"
    connected = "connected"
    disconnected = "disconnected"
    logged_out = "logged_out"
    banned = "banned"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media file: stored under MEDIA_DIR (`path`, relative to it), or kept as a
    `reference` (what the channel needs to fetch it later) when too large."""

    kind: MediaKind
    mime_type: str | None = None
    filename: str | None = None
    path: str | None = None
    size: int | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message a customer sent (or, with `from_me`, one sent from the business's phone).

    `sender` is the customer's phone number; in a group, `group` is the group's JID and
    `sender` the participant who wrote, and `group_subject` the group's name when the channel
    has just learnt it (its first message of the group since connecting; None otherwise, so
    that the service names the group's contact without asking on every message). An edit
    or a revoke names the message it changes in `edit_of` / `revoke_of` (an edit's `text` is
    the new text)."""

    connection_id: int
    channel_message_id: str
    sender: str
    push_name: str
    text: str
    timestamp: datetime
    media: MediaRef | None = None
    quoted_id: str | None = None
    from_me: bool = False
    group: str | None = None
    edit_of: str | None = None
    revoke_of: str | None = None
    group_subject: str | None = None


@dataclass(frozen=True, slots=True)
class GroupRenamed:
    """A group's subject (its name in WhatsApp) changed to `subject`; `group` is its JID."""

    connection_id: int
    group: str
    subject: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to send; `message_id` is our stored Message's id, kept for the receipts."""

    connection_id: int
    to: str
    text: str
    message_id: int | None = None
    media: MediaRef | None = None
    quoted_id: str | None = None
    quoted_text: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    connection_id: int
    channel_message_id: str
    status: Literal["delivered", "read", "played"]
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class StateChange:
    """The link changed state. `account` is the paired WhatsApp JID once known (None after a
    logout); `qr_code` and `pairing_code` are what the user must scan or type to log in."""

    connection_id: int
    state: ConnectionState
    detail: str = ""
    qr_code: str | None = field(default=None, repr=False)
    pairing_code: str | None = None
    account: str | None = None


class SendFailed(Exception):
    """The channel refused this message; `reason` is shown to agents on the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelUnavailable(SendFailed):
    """The channel is not connected: the message stays pending and is retried on reconnect."""


class ChannelEvents(Protocol):
    """What a running channel reports to the service."""

    async def on_message(self, message: InboundMessage) -> None: ...

    async def on_receipt(self, receipt: Receipt) -> None: ...

    async def on_state(self, change: StateChange) -> None: ...

    async def on_group_renamed(self, change: GroupRenamed) -> None: ...


class Channel(Protocol):
    """One connection's link to WhatsApp."""

    connection_id: int

    @property
    def state(self) -> ConnectionState: ...

    async def start(self, events: ChannelEvents) -> None:
        """Connect and begin reporting to `events`; returns once started (not once connected)."""

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> str:
        """Send and return the channel's id for the message; raise SendFailed otherwise."""

    async def mark_read(self, chat: str, channel_message_ids: Sequence[str]) -> None:
        """Tell the customer these messages of theirs were read (the blue ticks)."""

    async def set_typing(self, chat: str, typing: bool) -> None:
        """Show (or stop showing) "typing…" to the customer."""
