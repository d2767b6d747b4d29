"""Shapes of /api/companies, /api/plans and /api/settings, and the settings every company has."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from flows.spec import BusinessHours
from service.http import DbId, PageQuery, ResponseModel, StrictModel
from service.users.schemas import Email, Password, UserOut

__all__ = [
    "SETTING_KEYS",
    "BotTexts",
    "CompanyAdmin",
    "CompanyCreate",
    "CompanyCreatedOut",
    "CompanyOut",
    "CompanyQuery",
    "CompanySettings",
    "CompanySettingsUpdate",
    "CompanyUpdate",
    "PlanCreate",
    "PlanOut",
    "PlanUpdate",
]

# A limit of a plan: null is unlimited; the bound keeps it inside a 32-bit column.
Limit = Annotated[int | None, Field(ge=0, le=1_000_000)]


class PlanOut(ResponseModel):
    id: int
    """The plan's id."""
    name: str
    """The plan's name."""
    max_users: int | None
    """The most users a company on the plan may have; null: unlimited."""
    max_connections: int | None
    """The most connections a company on the plan may have; null: unlimited."""
    max_queues: int | None
    """The most queues a company on the plan may have; null: unlimited."""
    created_at: datetime
    """When the plan was created (UTC)."""


class PlanCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    """The plan's name (1-100 characters)."""
    max_users: Limit = None
    """The most users a company on the plan may have (creating more is a 403); null:
    unlimited."""
    max_connections: Limit = None
    """The most connections a company on the plan may have; null: unlimited."""
    max_queues: Limit = None
    """The most queues a company on the plan may have; null: unlimited."""


class PlanUpdate(StrictModel):
    """Only the fields present change; an explicit null limit means unlimited."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    """A new name; left out keeps the current one."""
    max_users: Limit = None
    """A new users limit; null: unlimited; left out keeps the current one."""
    max_connections: Limit = None
    """A new connections limit; null: unlimited; left out keeps the current one."""
    max_queues: Limit = None
    """A new queues limit; null: unlimited; left out keeps the current one."""


class CompanyOut(ResponseModel):
    id: int
    """The company's id."""
    name: str
    """The company's name."""
    plan_id: int | None
    """The company's plan, which limits its users, connections and queues; null: no plan
    (unlimited)."""
    is_active: bool
    """False: the company is suspended; its users and API tokens cannot log in or call the
    API."""
    created_at: datetime
    """When the company was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""


class CompanyCreatedOut(CompanyOut):
    admin: UserOut
    """The company's first admin, created with it."""


class CompanyQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200)
    """Only the companies whose name contains this (ignoring case)."""


class CompanyAdmin(StrictModel):
    """The first admin of a new company."""

    name: str = Field(min_length=1, max_length=200)
    """The admin's name."""
    email: Email
    """The admin's login email, unique across all companies."""
    password: Password
    """The admin's initial password, 8-200 characters."""


class CompanyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    """The company's name (1-200 characters)."""
    plan_id: DbId | None = None
    """The plan to put the company on; null: none (unlimited)."""
    admin: CompanyAdmin
    """The company's first admin, created with it."""


class CompanyUpdate(StrictModel):
    """Only the fields present change; an explicit null plan_id removes the plan."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    """A new name; left out keeps the current one."""
    plan_id: DbId | None = None
    """A new plan; null removes the plan; left out keeps the current one."""
    is_active: bool | None = None
    """False suspends the company (its users are logged out), true restores it; not your
    own company."""


@cache
def _time_zones() -> frozenset[str]:
    # "localtime" is the host's zone, whatever that is: not a name a company means.
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def _timezone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError("is not an IANA time zone name")
    return value


Timezone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
Keyword = Annotated[str, Field(min_length=1, max_length=100)]
Keywords = Annotated[list[Keyword], Field(max_length=100)]
BotTexts = Annotated[
    dict[
        Annotated[str, Field(min_length=1, max_length=60)], Annotated[str, Field(max_length=2000)]
    ],
    Field(max_length=100),
]
# Overrides per language; a language left out (or a key left out of it) uses the defaults.
BotTextsByLanguage = dict[Literal["pt-BR", "en", "es"], BotTexts]


class CompanySettings(StrictModel):
    """A company's settings with their defaults; the flow engine reads them."""

    language: Literal["pt-BR", "en", "es"] = "pt-BR"
    """The bot's language (pt-BR, en or es) for contacts without one of their own."""
    timezone: Timezone = "America/Sao_Paulo"
    """The company's IANA time zone (e.g. America/Sao_Paulo): the days of its reports, and the
    time of day of {{greeting}} where no business hours give a zone."""
    human_keywords: Keywords = Field(
        default_factory=lambda: ["atendente", "humano", "agent", "agente"]
    )
    """Words that, written in any message at any step, hand the conversation to a person at once
    (as whole words, ignoring case)."""
    optout_keywords: Keywords = Field(default_factory=lambda: ["SAIR", "STOP", "PARAR"])
    """A message that is just one of these (ignoring case) opts the contact out of campaigns."""
    optin_keywords: Keywords = Field(default_factory=lambda: ["VOLTAR"])
    """A message that is just one of these (ignoring case) opts an opted-out contact back in."""
    csat_enabled: bool = True
    """True: when a ticket an agent handled closes, the customer is asked to rate the service
    (1-5); false: the connection's farewell instead."""
    csat_timeout_minutes: int = Field(default=60, ge=1, le=10080)
    """Minutes the rating question waits for an answer before it expires (1-10080)."""
    triage_max_misses: int = Field(default=3, ge=1, le=10)
    """Answers the bot may fail to understand in a menu before it gives up: from the main menu
    the ticket goes to the fallback queue, from a queue's menu to that queue's agents (1-10)."""
    fallback_queue_id: DbId | None = None
    """The queue for tickets whose customer picks none (too many misses, or
    `unqueued_timeout_minutes`); null: they wait without a queue."""
    out_of_hours_action: Literal["pending", "closed"] = "pending"
    """Out of business hours, after the out-of-hours message: pending leaves the ticket waiting
    in its queue, closed closes it."""
    inactivity_close_minutes: int | None = Field(default=None, ge=5, le=525_600)
    """Close a ticket still with the bot after this many minutes without a message (5-525600);
    null: never."""
    unqueued_timeout_minutes: int | None = Field(default=None, ge=5, le=525_600)
    """Move a ticket waiting without a queue to `fallback_queue_id` after this many minutes
    (5-525600); null: never."""
    # The company's hours, for queues that have none of their own.
    business_hours: BusinessHours | None = None
    """The company's hours, for queues without hours of their own; null: always open."""
    # The texts of the company's own language (the same as bot_texts_by_language[language]),
    # kept as the first version's field: reading and writing it reads and writes that entry.
    bot_texts: BotTexts = Field(default_factory=dict)
    """Overrides of the bot's texts in the company's language (the same entry as
    bot_texts_by_language[language]); a key left out uses the default text (GET
    /api/settings/bot-texts)."""
    bot_texts_by_language: BotTextsByLanguage = Field(default_factory=dict)
    """Overrides of the bot's texts per language (pt-BR, en, es); a contact is answered in their
    language, else the company's."""


SETTING_KEYS = tuple(CompanySettings.model_fields)


# The default of a settings PATCH field: "keep the current value". It is not a valid value of
# the non-nullable settings, so an explicit null for one of them is a 422.
_KEEP: Any = None


_SETTINGS_PATCH_EXAMPLE = {
    "timezone": "America/Sao_Paulo",
    "human_keywords": ["atendente", "humano", "falar com alguém"],
    "csat_timeout_minutes": 120,
    "fallback_queue_id": 1,
    "inactivity_close_minutes": 1440,
    "business_hours": {
        "timezone": "America/Sao_Paulo",
        "days": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["01-01", "12-25"],
    },
    "bot_texts": {"welcome": "{{greeting}}, {{first_name}}! Welcome to ACME."},
}


def _patch_schema(schema: dict[str, Any]) -> None:
    # A PATCH field has no default: leaving it out keeps the current value. The example is a
    # body of some settings, to show that the others may be left out.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)
    schema["examples"] = [_SETTINGS_PATCH_EXAMPLE]


class CompanySettingsUpdate(StrictModel):
    """Some settings: only the keys present change. A null is allowed where the setting is
    nullable (fallback_queue_id, inactivity_close_minutes, unqueued_timeout_minutes,
    business_hours)."""

    model_config = ConfigDict(json_schema_extra=_patch_schema)

    language: Literal["pt-BR", "en", "es"] = Field(default=_KEEP)
    """The bot's language (pt-BR, en or es) for contacts without one of their own."""
    timezone: Timezone = Field(default=_KEEP)
    """The company's IANA time zone (e.g. America/Sao_Paulo): the days of its reports, and the
    time of day of {{greeting}} where no business hours give a zone."""
    human_keywords: Keywords = Field(default=_KEEP)
    """Words that, written in any message at any step, hand the conversation to a person at once
    (as whole words, ignoring case)."""
    optout_keywords: Keywords = Field(default=_KEEP)
    """A message that is just one of these (ignoring case) opts the contact out of campaigns."""
    optin_keywords: Keywords = Field(default=_KEEP)
    """A message that is just one of these (ignoring case) opts an opted-out contact back in."""
    csat_enabled: bool = Field(default=_KEEP)
    """True: when a ticket an agent handled closes, the customer is asked to rate the service
    (1-5); false: the connection's farewell instead."""
    csat_timeout_minutes: int = Field(default=_KEEP, ge=1, le=10080)
    """Minutes the rating question waits for an answer before it expires (1-10080)."""
    triage_max_misses: int = Field(default=_KEEP, ge=1, le=10)
    """Answers the bot may fail to understand in a menu before it gives up: from the main menu
    the ticket goes to the fallback queue, from a queue's menu to that queue's agents (1-10)."""
    fallback_queue_id: DbId | None = None
    """The queue for tickets whose customer picks none (too many misses, or
    `unqueued_timeout_minutes`); null: they wait without a queue."""
    out_of_hours_action: Literal["pending", "closed"] = Field(default=_KEEP)
    """Out of business hours, after the out-of-hours message: pending leaves the ticket waiting
    in its queue, closed closes it."""
    inactivity_close_minutes: int | None = Field(default=None, ge=5, le=525_600)
    """Close a ticket still with the bot after this many minutes without a message (5-525600);
    null: never."""
    unqueued_timeout_minutes: int | None = Field(default=None, ge=5, le=525_600)
    """Move a ticket waiting without a queue to `fallback_queue_id` after this many minutes
    (5-525600); null: never."""
    business_hours: BusinessHours | None = None
    """The company's hours, for queues without hours of their own; null: always open."""
    bot_texts: BotTexts = Field(default=_KEEP)
    """Overrides of the bot's texts in the company's language (the same entry as
    bot_texts_by_language[language]); a key left out uses the default text (GET
    /api/settings/bot-texts)."""
    bot_texts_by_language: BotTextsByLanguage = Field(default=_KEEP)
    """Overrides of the bot's texts per language (pt-BR, en, es); a contact is answered in their
    language, else the company's."""
