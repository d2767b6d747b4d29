"""Shapes of /api/audit-log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from service.http import PageQuery

__all__ = ["AuditEntryOut", "AuditQuery"]


class AuditQuery(PageQuery):
    object_type: str | None = Field(default=None, max_length=40)
    object_id: str | None = Field(default=None, max_length=40)


class AuditEntryOut(BaseModel):
    id: int
    user_id: int | None
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime
