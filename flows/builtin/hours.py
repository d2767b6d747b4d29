"""Business hours: out of hours the customer is told once per closed window, then the
ticket waits in its queue or closes (``BotConfig.out_of_hours_action``).

`hand_off` is the one way every flow hands a ticket to people, so that no handoff
ignores the hours. The router here catches messages of a ticket whose queue is already
known (preset by the service, or chosen earlier) while that queue is closed.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from rasa_sdk import Tracker

from flows.context import BotConfig, Conversation, QueueInfo
from flows.events import CloseTicket, Event, Handoff, SetQueue, SlotSet
from flows.router import Router
from flows.spec import BusinessHours, is_open
from flows.texts import say, text_for

__all__ = [
    "OUT_OF_HOURS_SLOT",
    "bot_is_talking",
    "closed_since",
    "current_queue_id",
    "hand_off",
    "hours_for",
    "router",
]

OUT_OF_HOURS_SLOT = "out_of_hours_window"
"""The start of the closed window whose out-of-hours message was sent ("always" if none)."""

_LOOKBACK_DAYS = 400  # beyond a year of holidays, the window is "always closed"


def hours_for(queue: QueueInfo | None, config: BotConfig) -> BusinessHours | None:
    """The queue's own hours, else the company's (None: always open)."""
    if queue is not None and queue.business_hours is not None:
        return queue.business_hours
    return config.business_hours


def _is_holiday(hours: BusinessHours, day: Any) -> bool:
    return day.isoformat() in hours.holidays or day.strftime("%m-%d") in hours.holidays


def closed_since(hours: BusinessHours, now: datetime) -> str | None:
    """None while open; else when the current closed window began (ISO) or "always"."""
    if is_open(hours, now):
        return None
    local = now.astimezone(hours.zone)
    for back in range(_LOOKBACK_DAYS):
        day = local.date() - timedelta(days=back)
        if _is_holiday(hours, day):
            continue
        ends = []
        for _, end in hours.days.of(day.weekday()):
            if end == "24:00":
                closing = datetime.combine(day + timedelta(days=1), time(0), hours.zone)
            else:
                closing = datetime.combine(day, time.fromisoformat(end), hours.zone)
            if closing <= local:
                ends.append(closing)
        if ends:
            return max(ends).isoformat()
    return "always"


def current_queue_id(tracker: Tracker, conversation: Conversation) -> int | None:
    """The queue the customer is in: the menu being walked, else the ticket's."""
    menu_queue = tracker.get_slot("menu_queue_id")
    return int(menu_queue) if menu_queue is not None else conversation.queue_id


def _reset_triage() -> list[Event]:
    return [SlotSet("step", None), SlotSet("menu_queue_id", None), SlotSet("menu_path", [])]


def hand_off(
    queue_id: int | None,
    *,
    notice: str | None,
    dispatcher: Any,
    tracker: Tracker,
    config: BotConfig,
    conversation: Conversation,
) -> list[Event]:
    """Hands the ticket to `queue_id` with `notice` (a template), or, outside that queue's
    (or the company's) hours, sends the out-of-hours text once and waits or closes. With no
    queue chosen it goes to the company's fallback (or the connection's default) queue."""
    queue_id = config.handoff_queue_id(queue_id)
    queue = config.queue(queue_id)
    queue_name = queue.name if queue else None
    events = [*_reset_triage(), SlotSet("misses", 0)]
    hours = hours_for(queue, config)
    window = closed_since(hours, conversation.now) if hours is not None else None
    if window is None:
        if notice:
            say(dispatcher, notice, config=config, conversation=conversation, queue_name=queue_name)
        return [*events, Handoff(queue_id)]
    if tracker.get_slot(OUT_OF_HOURS_SLOT) != window:
        message = queue.out_of_hours_message if queue and queue.out_of_hours_message else ""
        say(
            dispatcher,
            message or text_for("out_of_hours", config=config),
            config=config,
            conversation=conversation,
            queue_name=queue_name,
        )
        events.append(SlotSet(OUT_OF_HOURS_SLOT, window))
    if config.out_of_hours_action == "closed":
        if queue_id is not None:
            events.append(SetQueue(queue_id))
        return [*events, CloseTicket("out_of_hours")]
    return [*events, Handoff(queue_id)]


def bot_is_talking(conversation: Conversation) -> bool:
    """The ticket is in the bot (not with people, not closed)."""
    return conversation.ticket_status == "bot"


router = Router(name="hours")
router.filter(bot_is_talking)


def _queue_closed(tracker: Tracker, config: BotConfig, conversation: Conversation) -> bool:
    queue_id = current_queue_id(tracker, conversation)
    if queue_id is None:
        return False
    hours = hours_for(config.queue(queue_id), config)
    return hours is not None and not is_open(hours, conversation.now)


@router.message(_queue_closed)
def out_of_hours(
    dispatcher: Any, tracker: Tracker, config: BotConfig, conversation: Conversation
) -> list[Event]:
    """A message in a closed queue: the out-of-hours text (once) and the ticket waits/closes."""
    return hand_off(
        current_queue_id(tracker, conversation),
        notice=None,
        dispatcher=dispatcher,
        tracker=tracker,
        config=config,
        conversation=conversation,
    )
