"""Request and response shapes of /api/connections.

`status` and `phone_number` belong to the running session: shown, never accepted in a body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from flows.spec import storable_text
from service.connections.models import Channel, ConnectionStatus
from service.errors import InvalidFields
from service.http import DbId, PageQuery, StrictModel

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


class ConnectionOut(BaseModel):
    id: int
    name: str
    channel: Channel
    is_default: bool
    is_active: bool
    status: ConnectionStatus
    # Why it is in that status ("stopped", a network error, a ban's reason); often empty.
    status_detail: str
    phone_number: str | None
    greeting: str
    farewell: str
    out_of_hours_message: str
    groups_enabled: bool
    queue_ids: list[int]
    created_at: datetime
    updated_at: datetime


class ConnectionCreate(StrictModel):
    name: ConnectionName
    channel: Channel = Channel.sandbox
    is_default: bool = False
    greeting: LongText = ""
    farewell: LongText = ""
    out_of_hours_message: LongText = ""
    groups_enabled: bool = False
    queue_ids: QueueIds = Field(default_factory=list)
    is_active: bool = True


class ConnectionUpdate(StrictModel):
    # Accepted only to say clearly that it cannot change (a different value is a 422).
    channel: Channel | None = None
    name: ConnectionName | None = None
    is_default: bool | None = None
    greeting: LongText | None = None
    farewell: LongText | None = None
    out_of_hours_message: LongText | None = None
    groups_enabled: bool | None = None
    queue_ids: QueueIds | None = None
    is_active: bool | None = None

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


class ConnectionLoginOut(BaseModel):
    """What a login needs: the QR code to scan (raw and as a PNG data URL) or the pairing code
    to type on the phone; null unless the connection waits for a login (status `qrcode`)."""

    status: ConnectionStatus
    qr_code: str | None
    qr_png: str | None
    pairing_code: str | None


class ConnectionStatusOut(BaseModel):
    """The data of `connection.updated`: the status, and the login codes to its admins."""

    id: int
    status: ConnectionStatus
    detail: str
    qr_code: str | None
    pairing_code: str | None
