"""What the engine knows about the company, its queues and the conversation.

The service builds these from the database; the engine only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Literal, get_args

from flows.spec import BusinessHours, MenuOption

__all__ = ["LANGUAGES", "BotConfig", "Conversation", "Language", "OutOfHoursAction", "QueueInfo"]

Language = Literal["pt-BR", "en", "es"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
OutOfHoursAction = Literal["pending", "closed"]


@dataclass(frozen=True, kw_only=True)
class QueueInfo:
    """A queue of the connection, with its greeting, triage keywords, menu and hours."""

    id: int
    name: str
    greeting: str = ""
    keywords: tuple[str, ...] = ()
    options: tuple[MenuOption, ...] = ()
    business_hours: BusinessHours | None = None
    out_of_hours_message: str = ""


@dataclass(frozen=True, kw_only=True)
class BotConfig:
    """A company's bot settings for one connection; `queues` are in menu order."""

    queues: tuple[QueueInfo, ...] = ()
    connection_greeting: str = ""
    language: Language = "pt-BR"
    human_keywords: tuple[str, ...] = ("atendente", "humano", "agent")
    optout_keywords: tuple[str, ...] = ("sair", "stop", "parar")
    optin_keywords: tuple[str, ...] = ("voltar",)
    triage_max_misses: int = 3
    fallback_queue_id: int | None = None
    business_hours: BusinessHours | None = None
    # The company's IANA zone: the clock of time-dependent texts when no hours give one.
    timezone: str = "America/Sao_Paulo"
    out_of_hours_action: OutOfHoursAction = "pending"
    csat_enabled: bool = False
    # The overrides of `language`, and those of every language (for `speaking`).
    texts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    texts_by_language: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def speaking(self, language: str | None) -> BotConfig:
        """This bot as it talks to a contact of `language`: its texts and greetings in that
        language when it is one the bot speaks, else in the company's."""
        if language is None or language == self.language or language not in LANGUAGES:
            return self
        texts = self.texts_by_language.get(language, MappingProxyType({}))
        return replace(self, language=language, texts=texts)

    def queue(self, queue_id: int | None) -> QueueInfo | None:
        """The connection's queue `queue_id`, or None."""
        return next((queue for queue in self.queues if queue.id == queue_id), None)

    def handoff_queue_id(self, queue_id: int | None) -> int | None:
        """Where a handoff to `queue_id` goes: that queue; with none chosen ("atendente" at
        the main menu), the company's fallback queue, else the connection's default (its
        first) queue, so that agents see it; None only when there is neither."""
        if queue_id is not None:
            return queue_id
        if self.fallback_queue_id is not None:
            return self.fallback_queue_id
        return self.queues[0].id if self.queues else None


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """The ticket and contact the message belongs to; `now` is aware (injected clock)."""

    contact_name: str
    protocol: str
    now: datetime
    ticket_status: Literal["bot", "pending", "open", "closed"] = "bot"
    queue_id: int | None = None
    agent_name: str | None = None
    awaiting_rating: bool = False
    opted_out: bool = False
