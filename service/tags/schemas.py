"""Request and response shapes of /api/tags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from service.contacts.schemas import SearchText
from service.http import PageQuery, StrictModel

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


class TagOut(BaseModel):
    id: int
    name: str
    color: str
    contacts_count: int
    created_at: datetime


class TagCreate(StrictModel):
    name: TagName
    color: Color = "#888888"


class TagUpdate(StrictModel):
    name: TagName | None = None
    color: Color | None = None


class TagQuery(PageQuery):
    q: SearchText | None = None
