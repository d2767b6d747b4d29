"""Request and response shapes of /api/scheduled-messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from service.http import DbId, PageQuery, ResponseModel, StrictModel
from service.tickets.schemas import MAX_MESSAGE_TEXT

__all__ = [
    "ScheduledCreate",
    "ScheduledMedia",
    "ScheduledOut",
    "ScheduledQuery",
    "ScheduledUpdate",
]

Body = Annotated[str, Field(max_length=MAX_MESSAGE_TEXT)]
Status = Literal["pending", "sent", "failed", "cancelled"]


class ScheduledMedia(StrictModel):
    """A file to send with the text (the text is then its caption), base64-encoded."""

    filename: str | None = Field(default=None, max_length=255)
    """The file's name as the contact sees it; null: none."""
    mime: str | None = Field(default=None, max_length=100)
    """The file's MIME type (e.g. application/pdf); null: guessed from the name."""
    content_base64: str = Field(min_length=1)
    """The file's bytes, base64-encoded."""


class ScheduledCreate(StrictModel):
    """`connection_id` defaults to the connection of the contact's latest ticket, else the
    company's default connection. `send_at` carries its UTC offset and is in the future."""

    contact_id: DbId
    """The contact to send to."""
    connection_id: DbId | None = None
    """The connection to send from; null: that of the contact's latest ticket, else the
    company's default."""
    body: Body = ""
    """The text (a file's caption with `media`), with the contact's {{variables}}; may be
    empty only with a file."""
    send_at: AwareDatetime
    """When to send, in the future, with its UTC offset (…Z or …-03:00)."""
    media: ScheduledMedia | None = None
    """A file to send; null: text only."""

    @model_validator(mode="after")
    def _something_to_send(self) -> ScheduledCreate:
        if not self.body and self.media is None:
            raise ValueError("a text or a file is needed")
        return self


class ScheduledUpdate(StrictModel):
    """Only while pending; only the fields sent change."""

    body: Body | None = None
    """A new text; left out keeps the current one."""
    send_at: AwareDatetime | None = None
    """A new moment (in the future, with its UTC offset); left out keeps the current one."""
    connection_id: DbId | None = None
    """A new connection to send from; left out keeps the current one."""


class ScheduledOut(ResponseModel):
    id: int
    """The scheduled message's id."""
    contact_id: int
    """The contact it goes to."""
    connection_id: int
    """The connection it goes from."""
    user_id: int | None
    """The user who scheduled it; null for an API token or a deleted user."""
    user_name: str | None
    """That user's name; null likewise."""
    body: str
    """The text (a file's caption when there is one)."""
    media_name: str | None
    """The attached file's name; null without a file (or a name)."""
    media_mime: str | None
    """The attached file's MIME type; null without a file."""
    send_at: datetime
    """When it is (or was) due (UTC)."""
    status: Status
    """pending: waiting for send_at; sent; failed (see `reason`); cancelled."""
    reason: str
    """Why it failed; empty otherwise."""
    sent_at: datetime | None
    """When it went out (UTC); null before."""
    message_id: int | None
    """The message it became in the contact's ticket, once sent; null before."""
    ticket_id: int | None
    """The ticket it was sent in; null before it went."""
    created_at: datetime
    """When it was scheduled (UTC)."""


class ScheduledQuery(PageQuery):
    contact_id: DbId | None = None
    """Only the messages scheduled for this contact."""
    status: Status | None = None
    """Only the messages in this status."""
