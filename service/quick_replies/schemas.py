"""Request and response shapes of /api/quick-replies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from service.contacts.schemas import SearchText
from service.http import PageQuery, ResponseModel, StrictModel

__all__ = ["QuickReplyCreate", "QuickReplyOut", "QuickReplyQuery", "QuickReplyUpdate"]

_SHORTCUT = re.compile(r"^[a-z0-9_-]+$")


def _shortcut(value: str) -> str:
    value = value.lower()
    if not _SHORTCUT.match(value):
        raise ValueError("may only contain letters, digits, '_' and '-'")
    return value


Shortcut = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_shortcut)]
ReplyText = Annotated[str, Field(min_length=1, max_length=4000)]


class QuickReplyOut(ResponseModel):
    id: int
    """The quick reply's id."""
    shortcut: str
    """What an agent types after "/" in the message box to insert the text (lowercase)."""
    text: str
    """The text inserted; it may hold the conversation's {{variables}}."""
    created_at: datetime
    """When it was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""


class QuickReplyCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"shortcut": "hours", "text": "Hi {{first_name}}! We are open 8:00-18:00."}
            ]
        }
    )

    shortcut: Shortcut
    """Letters, digits, "_" and "-" (stored lowercase), unique in the company."""
    text: ReplyText
    """The text to insert; may use the conversation's {{variables}} (name, first_name, queue,
    agent, protocol, greeting)."""


class QuickReplyUpdate(StrictModel):
    shortcut: Shortcut | None = None
    """A new shortcut (letters, digits, "_" and "-"); left out keeps the current one."""
    text: ReplyText | None = None
    """A new text; left out keeps the current one."""


class QuickReplyQuery(PageQuery):
    q: SearchText | None = None
    """Only the quick replies whose shortcut starts with this (a leading "/" is ignored) or
    whose text contains it, ignoring case."""
