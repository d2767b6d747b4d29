"""Shapes of /api/sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import ConfigDict, Field, model_validator

from service.http import ResponseModel, StrictModel
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
    """What WhatsApp would call the message's media."""
    filename: str | None = Field(default=None, max_length=255)
    """The file's name; null: none."""
    mime: str | None = Field(default=None, max_length=100)
    """The file's MIME type; null: guessed from the name."""
    content_base64: str | None = None
    """The file, base64-encoded; null: only `reference` is kept."""
    reference: str | None = Field(default=None, max_length=2000)
    """What a channel would need to fetch the file later (kept instead of the bytes); null:
    none."""


class SandboxInbound(StrictModel):
    """What a simulated customer writes; the optional fields simulate the rest of WhatsApp:
    a message sent from the business's own phone (`from_me`, `from` is then the customer),
    in a group (`group`: its JID, `from`: who wrote, `group_subject`: the group's name as
    WhatsApp tells a channel on the group's first message), an edit or a revoke of an earlier
    message (by its channel id), a reply quoting one (`reply_to`), a file (`media`)."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", min_length=3, max_length=64)
    """The customer's number (with `from_me`: the customer written to; in a group: who
    wrote)."""
    name: str = Field(default="", max_length=200)
    """Their WhatsApp push name; empty: none."""
    text: str = Field(default="", max_length=4096)
    """The text, or a file's caption."""
    id: str | None = Field(default=None, min_length=1, max_length=128)
    """The channel message id (a repeated one is a duplicate and ignored); null: one is
    made up."""
    from_me: bool = False
    """True: sent from the business's own phone to the customer."""
    group: str | None = Field(default=None, max_length=32)
    """A group's JID, e.g. 120363025246125244@g.us; null: a direct message."""
    group_subject: str | None = Field(default=None, min_length=1, max_length=200)
    """The group's name (its subject); only with `group`."""
    edit_of: str | None = Field(default=None, min_length=1, max_length=128)
    """Channel id of the message this edits; null: not an edit."""
    revoke_of: str | None = Field(default=None, min_length=1, max_length=128)
    """Channel id of the message this deletes for everyone; null: not a revoke."""
    reply_to: str | None = Field(default=None, min_length=1, max_length=128)
    """Channel id of the message this quotes; null: none."""
    media: SandboxMedia | None = None
    """A file sent with the message; null: text only."""

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

    group: str = Field(max_length=32)
    """The group's JID, e.g. 120363025246125244@g.us."""
    subject: str = Field(min_length=1, max_length=200)
    """The group's new name."""


class SandboxReceived(ResponseModel):
    """The stored message (for an edit or a revoke: the message changed), if any."""

    message_id: int | None
    """The stored (or changed) message's id; null when nothing was stored."""
    duplicate: bool
    """True: a message with this channel id had already arrived, and was ignored."""


class SandboxOutboundQuery(StrictModel):
    to: str = Field(min_length=3, max_length=64)
    """A number or a group's JID: whose conversation to read."""


class SandboxMessageOut(ResponseModel):
    id: int
    """The message's id."""
    text: str
    """What the business sent (or a file's caption)."""
    status: str
    """pending, sent, delivered, read or failed."""
    from_bot: bool
    """True when the bot wrote it."""
    media: MediaOut | None
    """The file sent; null for a text."""
    quoted_channel_id: str | None
    """Channel id of the customer's message it replies to; null when it quotes none."""
    channel_message_id: str | None
    """The channel id the sandbox gave it; null before it went out."""
    created_at: datetime
    """When it was sent (UTC)."""


class SandboxMarkedRead(ResponseModel):
    """Channel ids of the customer's messages the business marked read, in order."""

    items: list[str]
    """The channel ids, oldest first."""


class SandboxTyping(ResponseModel):
    """Each time the business showed (true) or stopped showing (false) "typing…"."""

    items: list[bool]
    """Each change, oldest first."""
