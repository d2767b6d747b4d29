"""The conversation-flow engine: routers, filters, state and built-in flows (pure, no I/O)."""

from flows.context import BotConfig, Conversation, QueueInfo
from flows.engine import FlowResult, run_flow
from flows.events import (
    CloseTicket,
    Handoff,
    OptIn,
    OptOut,
    RateTicket,
    SetQueue,
    SlotSet,
    is_event,
)
from flows.filters import F, Message, normalize
from flows.router import Router, SkipHandler, State, StatesGroup
from flows.texts import DEFAULT_TEXTS, render

__all__ = [
    "DEFAULT_TEXTS",
    "BotConfig",
    "CloseTicket",
    "Conversation",
    "F",
    "FlowResult",
    "Handoff",
    "Message",
    "OptIn",
    "OptOut",
    "QueueInfo",
    "RateTicket",
    "Router",
    "SetQueue",
    "SkipHandler",
    "SlotSet",
    "State",
    "StatesGroup",
    "is_event",
    "normalize",
    "render",
    "run_flow",
]
