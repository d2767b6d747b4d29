"""docs/events.md is the catalogue (service/events.py) written out: every event type, when it
happens, who hears it and its payload's fields. Regenerate it with
`ATENDE_WRITE_DOCS=1 pytest tests/service/app/test_events_doc.py`."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from service.events import CATALOGUE

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"

INTRO = """# Realtime events

Every event the server publishes, as the inbox's websocket (`/ws`) receives it and as
outgoing webhooks will: `{"type", "id", "data"}`. `id` orders the events and lets a
reconnecting socket resume (`/ws?since=<id>`); `data` is the payload below. Each type is
declared once, with its payload's type, in `service/events.py`; this page is generated from
it (tests/service/app/test_events_doc.py fails when they differ).

Events are published after the change they tell of is committed (after the outermost
transaction), in the order the changes were made. A ticket's events go only to who may see
the ticket: admins and supervisors, its agent, and the agents of its queue while it waits.
`ticket.updated` always carries the whole ticket, as `GET /api/tickets/{id}` returns it, so
a client never needs to fetch it again; a new message changes the ticket's last message and
unread count without a `ticket.updated` (its `message.created` says so).
"""


def _type_name(annotation: Any) -> str:
    """`int or null`, `datetime`, `one of "bot", "pending"…` (a pipe would end the cell)."""
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "one of " + ", ".join(f'"{member.value}"' for member in annotation)
    text = re.sub(r"<(?:class|enum) '([\w.]+)'>", r"\1", str(annotation))
    text = re.sub(r"[\w.]+\.(\w+)", r"\1", text)
    return text.replace(" | None", " or null").replace(" | ", " or ")


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        shown = nested = field.annotation
        for member in get_args(shown):  # X | None: an enum or a model is described as X
            if isinstance(member, type) and issubclass(member, StrEnum | BaseModel):
                nested = member
                shown = member if issubclass(member, StrEnum) else shown
        rows.append(f"| `{prefix}{name}` | {_type_name(shown)} |")
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            rows += _fields(nested, f"{prefix}{name}.")
    return rows


def render() -> str:
    parts = [INTRO]
    for declared in CATALOGUE.values():
        parts.append(
            f"\n## `{declared.name}`\n\n"
            f"**When:** {declared.when}.\n\n"
            f"**Who hears it:** {declared.audience}.\n\n"
            f"**Payload:** `{declared.payload.__name__}`\n\n"
            "| field | type |\n| --- | --- |\n" + "\n".join(_fields(declared.payload)) + "\n"
        )
    return "".join(parts)


def test_the_document_is_the_catalogue() -> None:
    expected = render()
    if os.environ.get("ATENDE_WRITE_DOCS"):
        DOC.write_text(expected)
    assert DOC.read_text() == expected, "docs/events.md is stale: see this module's docstring"


def test_every_type_is_documented() -> None:
    text = DOC.read_text()
    assert all(f"## `{name}`" in text for name in CATALOGUE)
