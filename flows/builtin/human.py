"""A human on request: any of the company's human keywords, at any step, hands over at once."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from flows.builtin.hours import bot_is_talking, current_queue_id, hand_off
from flows.context import BotConfig, Conversation
from flows.events import Event
from flows.filters import words_filter
from flows.router import Router
from flows.texts import text_for

__all__ = ["router"]

router = Router(name="human")
router.filter(bot_is_talking)


def _human_keywords(config: BotConfig) -> tuple[str, ...]:
    return config.human_keywords


@router.message(words_filter(_human_keywords))
def human_on_request(
    dispatcher: Any, tracker: Tracker, config: BotConfig, conversation: Conversation
) -> list[Event]:
    """ "atendente", "humano", "agent" (as a word): Handoff to the current queue (none chosen:
    the fallback queue, see `hand_off`)."""
    return hand_off(
        current_queue_id(tracker, conversation),
        notice=text_for("human_handoff", config=config),
        dispatcher=dispatcher,
        tracker=tracker,
        config=config,
        conversation=conversation,
    )
