"""Shapes of /api/audit-log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from service.http import PageQuery, ResponseModel

__all__ = ["AuditEntryOut", "AuditQuery"]


class AuditQuery(PageQuery):
    object_type: str | None = Field(default=None, max_length=40)
    """Only the entries about this kind of object (e.g. queue, user, campaign, settings)."""
    object_id: str | None = Field(default=None, max_length=40)
    """Only the entries about the object with this id (as text, as the entries give it)."""


class AuditEntryOut(ResponseModel):
    id: int
    """The entry's id; entries come newest first."""
    user_id: int | None
    """The user who made the change; null when it was an API token or the system."""
    action: str
    """What was done: create, update, delete, or a verb of the object (start, stop, paused,
    resumed, cancelled, logout)."""
    object_type: str
    """The kind of object changed (e.g. queue, user, connection, campaign, settings)."""
    object_id: str
    """The changed object's id, as text."""
    before: dict[str, Any] | None
    """The object's fields before the change; null for a creation."""
    after: dict[str, Any] | None
    """The object's fields after the change; null for a deletion."""
    created_at: datetime
    """When the change was made (UTC)."""
