"""Campaign opt-out and opt-in by keyword, at any time and in any ticket status.

The whole message must be the keyword ("SAIR", "stop!"), so that "não vou parar" is not
an opt-out. Opt-in ("VOLTAR") only applies to a contact who opted out; otherwise the word
goes on to the other flows.
"""

from __future__ import annotations

from typing import Any

from flows.context import BotConfig, Conversation
from flows.events import Event, OptIn, OptOut
from flows.filters import words_filter
from flows.router import Router
from flows.texts import say, text_for

__all__ = ["router"]

router = Router(name="optout")


def _optin_keywords(config: BotConfig) -> tuple[str, ...]:
    return config.optin_keywords


def _optout_keywords(config: BotConfig) -> tuple[str, ...]:
    return config.optout_keywords


def _opted_out(conversation: Conversation) -> bool:
    return conversation.opted_out


@router.message(_opted_out, words_filter(_optin_keywords, whole_message=True))
def opt_in(dispatcher: Any, config: BotConfig, conversation: Conversation) -> list[Event]:
    """The contact wants campaigns again: OptIn and a confirmation."""
    say(dispatcher, text_for("optin", config=config), config=config, conversation=conversation)
    return [OptIn()]


@router.message(words_filter(_optout_keywords, whole_message=True))
def opt_out(dispatcher: Any, config: BotConfig, conversation: Conversation) -> list[Event]:
    """The contact wants no more campaigns: OptOut and a confirmation."""
    say(dispatcher, text_for("optout", config=config), config=config, conversation=conversation)
    return [OptOut()]
