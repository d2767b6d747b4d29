"""Runs one customer message through the flows: pure, deterministic, no I/O."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from flows.context import BotConfig, Conversation
from flows.events import Event, is_event
from flows.filters import Message
from flows.router import Router

__all__ = ["STEP_SLOT", "FlowResult", "apply_slots", "run_flow"]

STEP_SLOT = "step"
"""The slot holding the current step; handlers receive it as `state`."""


@dataclass(frozen=True)
class FlowResult:
    """What the bot says, what it asks the service to do, and the flow state to store."""

    messages: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data (what slots hold), faster than `copy.deepcopy`."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def apply_slots(state: dict[str, Any], events: list[Event]) -> dict[str, Any]:
    """A copy of `state` with the slot events applied (``reset_slots``/``restart`` clear it)."""
    slots: dict[str, Any] = _copy(state)
    for event in events:
        if is_event(event, "slot"):
            slots[event["name"]] = _copy(event["value"])
        elif is_event(event, "reset_slots") or is_event(event, "restart"):
            slots.clear()
    return slots


async def run_flow(
    *,
    text: str,
    state: dict[str, Any],
    config: BotConfig,
    conversation: Conversation,
    router: Router | None = None,
) -> FlowResult:
    """Dispatches `text` through `router` (default: the built-in flows) and collects the result."""
    if router is None:
        from flows.builtin import default_router

        router = default_router()
    slots: dict[str, Any] = _copy(state)
    tracker = Tracker(
        conversation.protocol,
        slots,
        {"text": text},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = await router.propagate(
        Message(text),
        tracker=tracker,
        dispatcher=dispatcher,
        config=config,
        conversation=conversation,
        state=slots.get(STEP_SLOT),
    )
    events = events or []
    messages = [str(m["text"]) for m in dispatcher.messages if m.get("text")]
    return FlowResult(messages=messages, events=events, state=apply_slots(state, events))
