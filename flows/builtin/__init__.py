"""The built-in flows and their composition in priority order."""

from __future__ import annotations

from flows.builtin import csat, hours, human, optout, triage
from flows.router import Router

__all__ = ["csat", "default_router", "hours", "human", "optout", "triage"]


def default_router() -> Router:
    """Opt-in/out, then the rating answer, a human on request, business hours, triage."""
    root = Router(name="atende")
    root.include_routers(optout.router, csat.router, human.router, hours.router, triage.router)
    return root
