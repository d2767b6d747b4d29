"""Request and response shapes of /api/tags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from service.contacts.schemas import SearchText
from service.http import PageQuery, ResponseModel, StrictModel

__all__ = ["TagCreate", "TagName", "TagOut", "TagQuery", "TagUpdate", "check_tag_name"]


def check_tag_name(name: str) -> str:
    """A tag's name as stored; ';' separates tags in the contacts CSV, so a name has none."""
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise ValueError("must be 1-60 characters")
    if ";" in name:
        raise ValueError("must not contain ';'")
    return name


TagName = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(check_tag_name)]
Color = Annotated[
    str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#3366ff"]), AfterValidator(str.lower)
]


class TagOut(ResponseModel):
    id: int
    """The tag's id (what contacts' `tag_ids` and segment filters name)."""
    name: str
    """The tag's name, unique in the company."""
    color: str
    """The colour the tag is shown in, as #rrggbb (lowercase)."""
    contacts_count: int
    """How many contacts have the tag."""
    created_at: datetime
    """When the tag was created (UTC)."""


class TagCreate(StrictModel):
    name: TagName
    """1-60 characters without ";" (which separates tags in the contacts CSV)."""
    color: Color = "#888888"
    """The colour to show the tag in, as #rrggbb."""


class TagUpdate(StrictModel):
    name: TagName | None = None
    """A new name (1-60 characters without ";"); left out keeps the current one."""
    color: Color | None = None
    """A new colour as #rrggbb; left out keeps the current one."""


class TagQuery(PageQuery):
    q: SearchText | None = None
    """Only the tags whose name contains this (ignoring case)."""
