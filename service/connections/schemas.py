"""Request and response shapes of /api/connections.

`status` and `phone_number` belong to the running session: shown, never accepted in a body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from flows.spec import storable_text
from service.connections.models import Channel, ConnectionStatus
from service.errors import InvalidFields
from service.http import DbId, PageQuery, ResponseModel, StrictModel

__all__ = [
    "ConnectionCreate",
    "ConnectionLoginOut",
    "ConnectionOut",
    "ConnectionQuery",
    "ConnectionStart",
    "ConnectionStatusOut",
    "ConnectionUpdate",
]

ConnectionName = Annotated[str, Field(min_length=1, max_length=100), storable_text]
LongText = Annotated[str, Field(max_length=4000), storable_text]
QueueIds = Annotated[list[DbId], Field(max_length=500)]


class ConnectionQuery(PageQuery):
    q: Annotated[str, Field(max_length=100), storable_text] | None = None
    """Only the connections whose name contains this (ignoring case)."""


class ConnectionOut(ResponseModel):
    id: int
    """The connection's id."""
    name: str
    """The connection's name, for the company's own use."""
    channel: Channel
    """whatsapp: a real WhatsApp number; sandbox: a simulated one, for trying the bot out."""
    is_default: bool
    """The company's default connection (e.g. for scheduled messages to a contact without
    tickets); one at most, the first one created unless changed."""
    is_active: bool
    """False: the connection is stopped (POST .../stop or a log-out) and does not run; its
    WhatsApp session is kept unless logged out."""
    status: ConnectionStatus
    """The session's state: disconnected, connecting, qrcode (waiting for a login),
    connected, logged_out (the phone unlinked it) or banned."""
    # Why it is in that status ("stopped", a network error, a ban's reason); often empty.
    status_detail: str
    """Why it is in that status ("stopped", a network error, a ban's reason); often empty."""
    phone_number: str | None
    """The linked phone's number (E.164); null until a login."""
    greeting: str
    """The first message of a new conversation on this connection; empty: the bot's default
    welcome text."""
    farewell: str
    """The message sent when a ticket closes (if no rating is asked); empty: none."""
    out_of_hours_message: str
    """Sent out of business hours when the queue has no message of its own; empty: the
    bot's default text."""
    groups_enabled: bool
    """True: messages in WhatsApp groups open tickets too; false: groups are ignored."""
    queue_ids: list[int]
    """The queues the bot offers in this connection's menu, in their `position` order."""
    created_at: datetime
    """When the connection was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""


class ConnectionCreate(StrictModel):
    name: ConnectionName
    """The connection's name (1-100 characters), for the company's own use."""
    channel: Channel = Channel.sandbox
    """whatsapp or sandbox; cannot change later."""
    is_default: bool = False
    """Make it the company's default connection (the first one always is)."""
    greeting: LongText = ""
    """The first message of a new conversation; empty: the bot's default welcome text."""
    farewell: LongText = ""
    """The message sent when a ticket closes (if no rating is asked); empty: none."""
    out_of_hours_message: LongText = ""
    """Sent out of business hours when the queue has none; empty: the bot's default."""
    groups_enabled: bool = False
    """True: messages in WhatsApp groups open tickets too."""
    queue_ids: QueueIds = Field(default_factory=list)
    """The queues (of this company) the bot offers in this connection's menu."""
    is_active: bool = True
    """True: it runs at once (a WhatsApp one starts its login); false: it waits for POST
    .../start."""


class ConnectionUpdate(StrictModel):
    # Accepted only to say clearly that it cannot change (a different value is a 422).
    channel: Channel | None = None
    """Cannot change: accepted only when it equals the current channel (else a 422)."""
    name: ConnectionName | None = None
    """A new name; left out keeps the current one."""
    is_default: bool | None = None
    """True makes it the company's default connection instead of the current one."""
    greeting: LongText | None = None
    """A new greeting (empty: the bot's default); left out keeps the current one."""
    farewell: LongText | None = None
    """A new farewell (empty: none); left out keeps the current one."""
    out_of_hours_message: LongText | None = None
    """A new out-of-hours message (empty: the bot's default); left out keeps it."""
    groups_enabled: bool | None = None
    """Whether messages in WhatsApp groups open tickets; left out keeps it."""
    queue_ids: QueueIds | None = None
    """The queues offered on this connection, replacing the current ones; left out keeps
    them."""
    is_active: bool | None = None
    """False marks the connection stopped, true active again (POST .../start and .../stop
    also run or stop its session)."""

    def changes(self) -> dict[str, Any]:
        """The fields the body sets (none of them may be null)."""
        changes = self.model_dump(exclude_unset=True)
        nulls = {name: "may not be null" for name, value in changes.items() if value is None}
        if nulls:
            raise InvalidFields(nulls)
        return changes


class ConnectionStart(StrictModel):
    """Start (or restart) a connection; a WhatsApp one without a session logs in by QR code,
    or by a pairing code for `pairing_phone` (the number to link, in international format)."""

    pairing_phone: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    """The number to link by a pairing code, in international format (+5511987654321);
    null: log in by QR code."""


class ConnectionLoginOut(ResponseModel):
    """What a login needs: the QR code to scan (raw and as a PNG data URL) or the pairing code
    to type on the phone; null unless the connection waits for a login (status `qrcode`)."""

    status: ConnectionStatus
    """The connection's status; the codes are given while it is qrcode."""
    qr_code: str | None
    """The QR code's content, to render yourself; null when not waiting for a QR login."""
    qr_png: str | None
    """The QR code as a data:image/png;base64 URL, ready for an <img>; null likewise."""
    pairing_code: str | None
    """The code to type on the phone (Linked devices > Link with phone number); null unless
    logging in by pairing code."""


class ConnectionStatusOut(ResponseModel):
    """The data of `connection.updated`: the status, and the login codes to its admins."""

    id: int
    """The connection's id."""
    status: ConnectionStatus
    """The session's state (as ConnectionOut.status)."""
    detail: str
    """Why it is in that status; often empty."""
    qr_code: str | None
    """The QR code's content while waiting for a QR login (admins only); null otherwise."""
    pairing_code: str | None
    """The pairing code while waiting for one (admins only); null otherwise."""
