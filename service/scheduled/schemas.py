"""Request and response shapes of /api/scheduled-messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from service.http import DbId, PageQuery, StrictModel
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
    mime: str | None = Field(default=None, max_length=100)
    content_base64: str = Field(min_length=1)


class ScheduledCreate(StrictModel):
    """`connection_id` defaults to the connection of the contact's latest ticket, else the
    company's default connection. `send_at` carries its UTC offset and is in the future."""

    contact_id: DbId
    connection_id: DbId | None = None
    body: Body = ""
    send_at: AwareDatetime
    media: ScheduledMedia | None = None

    @model_validator(mode="after")
    def _something_to_send(self) -> ScheduledCreate:
        if not self.body and self.media is None:
            raise ValueError("a text or a file is needed")
        return self


class ScheduledUpdate(StrictModel):
    """Only while pending; only the fields sent change."""

    body: Body | None = None
    send_at: AwareDatetime | None = None
    connection_id: DbId | None = None


class ScheduledOut(BaseModel):
    id: int
    contact_id: int
    connection_id: int
    user_id: int | None
    user_name: str | None
    body: str
    media_name: str | None
    media_mime: str | None
    send_at: datetime
    status: Status
    reason: str
    sent_at: datetime | None
    message_id: int | None
    ticket_id: int | None
    created_at: datetime


class ScheduledQuery(PageQuery):
    contact_id: DbId | None = None
    status: Status | None = None
