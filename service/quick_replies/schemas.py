"""Request and response shapes of /api/quick-replies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from service.contacts.schemas import SearchText
from service.http import PageQuery, StrictModel

__all__ = ["QuickReplyCreate", "QuickReplyOut", "QuickReplyQuery", "QuickReplyUpdate"]

_SHORTCUT = re.compile(r"^[a-z0-9_-]+$")


def _shortcut(value: str) -> str:
    value = value.lower()
    if not _SHORTCUT.match(value):
        raise ValueError("may only contain letters, digits, '_' and '-'")
    return value


Shortcut = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_shortcut)]
ReplyText = Annotated[str, Field(min_length=1, max_length=4000)]


class QuickReplyOut(BaseModel):
    id: int
    shortcut: str
    text: str
    created_at: datetime
    updated_at: datetime


class QuickReplyCreate(StrictModel):
    shortcut: Shortcut
    text: ReplyText


class QuickReplyUpdate(StrictModel):
    shortcut: Shortcut | None = None
    text: ReplyText | None = None


class QuickReplyQuery(PageQuery):
    q: SearchText | None = None
