"""Request and response shapes of /api/queues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from flows.spec import MAX_OPTIONS_PER_LEVEL, BusinessHours, MenuOption, storable_text
from service.errors import InvalidFields
from service.http import PageQuery, StrictModel

__all__ = ["QueueCreate", "QueueOut", "QueueQuery", "QueueUpdate"]

QueueName = Annotated[str, Field(min_length=1, max_length=100), storable_text]


def _lower(value: str) -> str:
    return value.lower()


def _unique_keywords(keywords: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for keyword in keywords:
        seen.setdefault(keyword.casefold(), keyword)
    return list(seen.values())


Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$"), AfterValidator(_lower)]
LongText = Annotated[str, Field(max_length=4000), storable_text]
Position = Annotated[int, Field(ge=0, le=1_000_000)]
Keyword = Annotated[str, Field(min_length=1, max_length=60), storable_text]
Keywords = Annotated[list[Keyword], Field(max_length=50), AfterValidator(_unique_keywords)]
Options = Annotated[list[MenuOption], Field(max_length=MAX_OPTIONS_PER_LEVEL)]


class QueueQuery(PageQuery):
    q: Annotated[str, Field(max_length=100), storable_text] | None = None


class QueueOut(BaseModel):
    id: int
    name: str
    color: str
    greeting: str
    position: int
    options: list[MenuOption]
    business_hours: BusinessHours | None
    out_of_hours_message: str
    keywords: list[str]
    user_ids: list[int]
    connection_ids: list[int]
    created_at: datetime
    updated_at: datetime


class QueueCreate(StrictModel):
    name: QueueName
    color: Color = "#5b8def"
    greeting: LongText = ""
    position: Position = 0
    options: Options = Field(default_factory=list)
    business_hours: BusinessHours | None = None
    out_of_hours_message: LongText = ""
    keywords: Keywords = Field(default_factory=list)


class QueueUpdate(StrictModel):
    name: QueueName | None = None
    color: Color | None = None
    greeting: LongText | None = None
    position: Position | None = None
    options: Options | None = None
    business_hours: BusinessHours | None = None
    out_of_hours_message: LongText | None = None
    keywords: Keywords | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the body sets; null only where null means something (business_hours)."""
        changes = self.model_dump(exclude_unset=True)
        nulls = {
            name: "may not be null"
            for name, value in changes.items()
            if value is None and name != "business_hours"
        }
        if nulls:
            raise InvalidFields(nulls)
        return changes
