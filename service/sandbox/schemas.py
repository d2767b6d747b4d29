"""Shapes of /api/sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.http import StrictModel
from service.tickets.schemas import MediaOut

__all__ = [
    "SandboxGroupRenamed",
    "SandboxInbound",
    "SandboxMarkedRead",
    "SandboxMedia",
    "SandboxMessageOut",
    "SandboxOutboundQuery",
    "SandboxReceived",
    "SandboxTyping",
]


class SandboxMedia(StrictModel):
    """A file the simulated customer sends, stored under MEDIA_DIR as a channel would store
    it; without content (a location, a contact card, a file too large) only the `reference`
    is kept."""

    kind: Literal["image", "document", "audio", "video", "sticker", "location", "contact"]
    filename: str | None = Field(default=None, max_length=255)
    mime: str | None = Field(default=None, max_length=100)
    content_base64: str | None = Field(default=None, description="the file, base64-encoded")
    reference: str | None = Field(default=None, max_length=2000)


class SandboxInbound(StrictModel):
    """What a simulated customer writes; the optional fields simulate the rest of WhatsApp:
    a message sent from the business's own phone (`from_me`, `from` is then the customer),
    in a group (`group`: its JID, `from`: who wrote, `group_subject`: the group's name as
    WhatsApp tells a channel on the group's first message), an edit or a revoke of an earlier
    message (by its channel id), a reply quoting one (`reply_to`), a file (`media`)."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", min_length=3, max_length=64, description="their number")
    name: str = Field(default="", max_length=200, description="their WhatsApp push name")
    text: str = Field(default="", max_length=4096, description="the text, or a file's caption")
    id: str | None = Field(
        default=None, min_length=1, max_length=128, description="channel message id (dedupe)"
    )
    from_me: bool = False
    group: str | None = Field(
        default=None, max_length=32, description="a group's JID, e.g. 120363025246125244@g.us"
    )
    group_subject: str | None = Field(
        default=None, min_length=1, max_length=200, description="the group's name (its subject)"
    )
    edit_of: str | None = Field(
        default=None, min_length=1, max_length=128, description="channel id of the edited message"
    )
    revoke_of: str | None = Field(
        default=None, min_length=1, max_length=128, description="channel id of a deleted message"
    )
    reply_to: str | None = Field(
        default=None, min_length=1, max_length=128, description="channel id of a quoted message"
    )
    media: SandboxMedia | None = None

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.edit_of is not None and self.revoke_of is not None:
            raise ValueError("edit_of and revoke_of cannot go together")
        if self.group_subject is not None and self.group is None:
            raise ValueError("group_subject is a group's: give its group")
        if not self.text and self.media is None and self.revoke_of is None:
            raise ValueError("text is required unless the message is a file or a revoke")
        return self


class SandboxGroupRenamed(StrictModel):
    """Somebody renames a group the simulated number is in."""

    group: str = Field(max_length=32, description="the group's JID, e.g. 120363025246125244@g.us")
    subject: str = Field(min_length=1, max_length=200, description="the group's new name")


class SandboxReceived(BaseModel):
    """The stored message (for an edit or a revoke: the message changed), if any."""

    message_id: int | None
    duplicate: bool


class SandboxOutboundQuery(StrictModel):
    to: str = Field(min_length=3, max_length=64, description="a number or a group's JID")


class SandboxMessageOut(BaseModel):
    id: int
    text: str
    status: str
    from_bot: bool
    media: MediaOut | None
    quoted_channel_id: str | None
    channel_message_id: str | None
    created_at: datetime


class SandboxMarkedRead(BaseModel):
    """Channel ids of the customer's messages the business marked read, in order."""

    items: list[str]


class SandboxTyping(BaseModel):
    """Each time the business showed (true) or stopped showing (false) "typing…"."""

    items: list[bool]
