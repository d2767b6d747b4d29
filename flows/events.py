"""What a flow asks the service to do, as rasa-sdk style event dicts.

rasa_sdk events are plain dicts (``SlotSet("step", "x")`` gives ``{"event": "slot", ...}``);
ours are too, named ``atende.*``. The flow state lives in slots: use `SlotSet` for it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet as _SlotSet

__all__ = [
    "CLOSE_TICKET",
    "HANDOFF",
    "OPT_IN",
    "OPT_OUT",
    "RATE_TICKET",
    "SET_QUEUE",
    "SLOT",
    "CloseTicket",
    "Event",
    "Handoff",
    "OptIn",
    "OptOut",
    "RateTicket",
    "SetQueue",
    "SlotSet",
    "is_event",
]

Event = dict[str, Any]

SLOT = "slot"
HANDOFF = "atende.handoff"
SET_QUEUE = "atende.set_queue"
CLOSE_TICKET = "atende.close_ticket"
OPT_OUT = "atende.opt_out"
OPT_IN = "atende.opt_in"
RATE_TICKET = "atende.rate_ticket"


def SlotSet(name: str, value: Any) -> Event:
    """Sets a flow-state slot: ``{"event": "slot", "name", "value", "timestamp"}``."""
    event: Event = _SlotSet(name, value)
    return event


def Handoff(queue_id: int | None) -> Event:
    """The bot is done: the ticket goes pending in `queue_id` (None: pending without a queue)."""
    return {"event": HANDOFF, "queue_id": queue_id, "timestamp": None}


def SetQueue(queue_id: int | None) -> Event:
    """The ticket's queue is now `queue_id` (None: no queue); the bot keeps talking."""
    return {"event": SET_QUEUE, "queue_id": queue_id, "timestamp": None}


def CloseTicket(reason: str) -> Event:
    """The bot closes the ticket, e.g. ``"out_of_hours"``."""
    return {"event": CLOSE_TICKET, "reason": reason, "timestamp": None}


def OptOut() -> Event:
    """The contact no longer wants campaign messages."""
    return {"event": OPT_OUT, "timestamp": None}


def OptIn() -> Event:
    """The contact wants campaign messages again."""
    return {"event": OPT_IN, "timestamp": None}


def RateTicket(rating: int) -> Event:
    """The customer's 1-5 satisfaction rating of the ticket that was closed."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is between 1 and 5")
    return {"event": RATE_TICKET, "rating": rating, "timestamp": None}


def is_event(event: Event, name: str) -> bool:
    """Whether `event` is the event `name`: ``"atende.handoff"``, ``"handoff"`` or ``"slot"``."""
    kind = event.get("event")
    return kind == name or kind == f"atende.{name}"
