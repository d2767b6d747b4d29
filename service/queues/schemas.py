"""Request and response shapes of /api/queues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

from flows.spec import MAX_OPTIONS_PER_LEVEL, BusinessHours, MenuOption, storable_text
from service.errors import InvalidFields
from service.http import PageQuery, ResponseModel, StrictModel

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
    """Only the queues whose name contains this (ignoring case)."""


class QueueOut(ResponseModel):
    id: int
    """The queue's id."""
    name: str
    """The queue's name, as the bot's menu shows it to customers."""
    color: str
    """The colour the queue is shown in, as #rrggbb (lowercase)."""
    greeting: str
    """Sent when the customer chooses the queue; empty: the bot's default text."""
    position: int
    """The queue's place in the menu: lower first (then by id)."""
    options: list[MenuOption]
    """The queue's own menu, shown once the customer chose it; empty: the ticket goes
    straight to the queue's agents."""
    business_hours: BusinessHours | None
    """When the queue is attended; null: the company's hours (settings), or always if
    those are not set either."""
    out_of_hours_message: str
    """Sent to a customer who writes out of hours; empty: the connection's message or the
    bot's default."""
    keywords: list[str]
    """Words that choose this queue when the customer writes them in the main menu."""
    user_ids: list[int]
    """The users who attend the queue."""
    connection_ids: list[int]
    """The connections whose menu offers the queue."""
    created_at: datetime
    """When the queue was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""


class QueueCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Support",
                    "color": "#3366ff",
                    "greeting": "You are in Support. How can we help?",
                    "position": 1,
                    "keywords": ["support", "help", "problem"],
                    "options": [
                        {
                            "key": "1",
                            "title": "Second copy of an invoice",
                            "message": "Your invoices are at https://example.com/invoices",
                            "action": "end",
                        },
                        {
                            "key": "2",
                            "title": "Internet problems",
                            "action": "submenu",
                            "children": [
                                {"key": "1", "title": "No connection", "action": "human"},
                                {"key": "2", "title": "Slow", "action": "queue", "queue_id": 2},
                            ],
                        },
                    ],
                    "business_hours": {
                        "timezone": "America/Sao_Paulo",
                        "days": {
                            "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
                            "fri": [["08:00", "17:00"]],
                        },
                        "holidays": ["12-25", "2026-02-17"],
                    },
                    "out_of_hours_message": "We are closed; we answer from 8:00 to 18:00.",
                }
            ]
        }
    )

    name: QueueName
    """The queue's name (1-100 characters), as the bot's menu shows it."""
    color: Color = "#5b8def"
    """The colour to show the queue in, as #rrggbb."""
    greeting: LongText = ""
    """Sent when the customer chooses the queue; empty: the bot's default text."""
    position: Position = 0
    """The queue's place in the menu: lower first."""
    options: Options = Field(default_factory=list)
    """The queue's own menu (a tree of options); empty: straight to the queue's agents."""
    business_hours: BusinessHours | None = None
    """When the queue is attended; null: the company's hours."""
    out_of_hours_message: LongText = ""
    """Sent out of hours; empty: the connection's message or the bot's default."""
    keywords: Keywords = Field(default_factory=list)
    """Words that choose this queue in the main menu (up to 50, repeated ones dropped)."""


class QueueUpdate(StrictModel):
    name: QueueName | None = None
    """A new name; left out keeps the current one."""
    color: Color | None = None
    """A new colour as #rrggbb; left out keeps the current one."""
    greeting: LongText | None = None
    """A new greeting (empty: the default text); left out keeps the current one."""
    position: Position | None = None
    """A new place in the menu; left out keeps the current one."""
    options: Options | None = None
    """A new menu, replacing the whole tree; left out keeps the current one."""
    business_hours: BusinessHours | None = None
    """New hours; null: the company's hours; left out keeps the current ones."""
    out_of_hours_message: LongText | None = None
    """A new out-of-hours message; left out keeps the current one."""
    keywords: Keywords | None = None
    """New keywords, replacing the current ones; left out keeps them."""

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
