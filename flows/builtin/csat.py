"""The satisfaction rating asked after an agent closes the ticket (when awaiting_rating).

`goodbye` decides what closing a ticket says: the rating question when an agent handled it
and the company asks for ratings (it sets the slots this router listens on), else the
connection's farewell.

"1".."5" ("4/5", "nota 4", "nota: 4", "⭐⭐⭐⭐" too) -> RateTicket and thanks. Anything else
("7", "valeu, obrigado!") gets "please answer 1 to 5" once; a second invalid answer stops
asking. Either way the ``awaiting_rating`` slot is cleared when the question is over.
`answers_question` tells the service which messages after the close are the question's (the
others start a new conversation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker

from flows.context import BotConfig, Conversation
from flows.events import Event, RateTicket, SlotSet
from flows.filters import Message
from flows.router import Router
from flows.texts import say, text_for

__all__ = [
    "AWAITING_RATING",
    "CSAT_TRIES",
    "MAX_INVALID_ANSWERS",
    "Goodbye",
    "answers_question",
    "asking_rating",
    "goodbye",
    "parse_rating",
    "rating_over",
    "router",
]

MAX_INVALID_ANSWERS = 2
# The flow state's slots of the rating question: asked and not answered yet; invalid answers.
AWAITING_RATING = "awaiting_rating"
CSAT_TRIES = "csat_tries"

_RATING = re.compile(
    r"^(?:(?:nota|rating|score)\s*:?\s*)?([1-5])(?:\s*/\s*5)?"
    r"(?:\s*(?:estrelas?|estrellas?|stars?))?[\s.!?]*$"
)
_STARS = re.compile(r"^(?:\u2b50\ufe0f?\s*){1,5}$")

router = Router(name="csat")


@dataclass(frozen=True, slots=True)
class Goodbye:
    """What closing a ticket says (a template, rendered by the caller) and the slots it sets."""

    template: str
    slots: dict[str, Any] = field(default_factory=dict)


def goodbye(*, config: BotConfig, agent_handled: bool, farewell: str) -> Goodbye:
    """The rating question when an agent handled the ticket and CSAT is on, else the farewell."""
    if config.csat_enabled and agent_handled:
        return Goodbye(text_for("csat_question", config=config), asking_rating())
    return Goodbye(farewell)


def asking_rating() -> dict[str, Any]:
    """The slots of a rating question just asked."""
    return {AWAITING_RATING: True, CSAT_TRIES: 0}


def rating_over() -> dict[str, Any]:
    """The slots of a rating question that is over (answered, given up, lapsed, reopened)."""
    return {AWAITING_RATING: False, CSAT_TRIES: 0}


def _awaiting_rating(conversation: Conversation) -> bool:
    return conversation.awaiting_rating


router.filter(_awaiting_rating)


def parse_rating(message: Message) -> int | None:
    """The 1-5 rating the answer gives, or None."""
    text = message.normalized
    found = _RATING.match(text)
    if found:
        return int(found.group(1))
    if _STARS.match(text):
        return text.count("\u2b50")
    return None


def answers_question(flow_state: Mapping[str, Any], text: str) -> bool:
    """Whether a message to a closed ticket whose rating question is unanswered belongs to
    that question: a rating, or an invalid answer while it may still be asked again (the
    flow asks once more). Otherwise the question lapses and the message is a new
    conversation."""
    if parse_rating(Message(text)) is not None:
        return True
    return int(flow_state.get(CSAT_TRIES) or 0) + 1 < MAX_INVALID_ANSWERS


def _rating(message: Message) -> dict[str, int] | None:
    rating = parse_rating(message)
    return {"rating": rating} if rating is not None else None


def _question_over() -> list[Event]:
    return [SlotSet(name, value) for name, value in rating_over().items()]


@router.message(_rating)
def rate(
    rating: int, dispatcher: Any, config: BotConfig, conversation: Conversation
) -> list[Event]:
    """A valid rating: store it and thank the customer."""
    say(
        dispatcher, text_for("csat_thanks", config=config), config=config, conversation=conversation
    )
    return [RateTicket(rating), *_question_over()]


@router.message()
def invalid_rating(
    dispatcher: Any, tracker: Tracker, config: BotConfig, conversation: Conversation
) -> list[Event]:
    """Not a rating: ask again once, then give up."""
    tries = int(tracker.get_slot(CSAT_TRIES) or 0) + 1
    if tries >= MAX_INVALID_ANSWERS:
        return _question_over()
    say(
        dispatcher,
        text_for("csat_invalid", config=config),
        config=config,
        conversation=conversation,
    )
    return [SlotSet(CSAT_TRIES, tries)]
