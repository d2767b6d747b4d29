"""Shapes of /api/sandbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.http import StrictModel

__all__ = ["SandboxInbound", "SandboxMessageOut", "SandboxOutboundQuery", "SandboxReceived"]


class SandboxInbound(StrictModel):
    """What a simulated customer writes."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", min_length=3, max_length=64, description="their number")
    name: str = Field(default="", max_length=200, description="their WhatsApp push name")
    text: str = Field(min_length=1, max_length=4096)
    id: str | None = Field(
        default=None, min_length=1, max_length=128, description="channel message id (dedupe)"
    )


class SandboxReceived(BaseModel):
    message_id: int | None
    duplicate: bool


class SandboxOutboundQuery(StrictModel):
    to: str = Field(min_length=3, max_length=64)


class SandboxMessageOut(BaseModel):
    id: int
    text: str
    status: str
    from_bot: bool
    created_at: datetime
