"""Shapes of /api/companies, /api/plans and /api/settings, and the settings every company has."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from flows.spec import BusinessHours
from service.http import DbId, PageQuery, StrictModel
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


class PlanOut(BaseModel):
    id: int
    name: str
    max_users: int | None
    max_connections: int | None
    max_queues: int | None
    created_at: datetime


class PlanCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    max_users: Limit = None
    max_connections: Limit = None
    max_queues: Limit = None


class PlanUpdate(StrictModel):
    """Only the fields present change; an explicit null limit means unlimited."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    max_users: Limit = None
    max_connections: Limit = None
    max_queues: Limit = None


class CompanyOut(BaseModel):
    id: int
    name: str
    plan_id: int | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class CompanyCreatedOut(CompanyOut):
    admin: UserOut


class CompanyQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200, description="part of the name")


class CompanyAdmin(StrictModel):
    """The first admin of a new company."""

    name: str = Field(min_length=1, max_length=200)
    email: Email
    password: Password


class CompanyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    plan_id: DbId | None = None
    admin: CompanyAdmin


class CompanyUpdate(StrictModel):
    """Only the fields present change; an explicit null plan_id removes the plan."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    plan_id: DbId | None = None
    is_active: bool | None = None


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
    timezone: Timezone = "America/Sao_Paulo"
    human_keywords: Keywords = Field(
        default_factory=lambda: ["atendente", "humano", "agent", "agente"]
    )
    optout_keywords: Keywords = Field(default_factory=lambda: ["SAIR", "STOP", "PARAR"])
    optin_keywords: Keywords = Field(default_factory=lambda: ["VOLTAR"])
    csat_enabled: bool = True
    csat_timeout_minutes: int = Field(default=60, ge=1, le=10080)
    triage_max_misses: int = Field(default=3, ge=1, le=10)
    fallback_queue_id: DbId | None = None
    out_of_hours_action: Literal["pending", "closed"] = "pending"
    inactivity_close_minutes: int | None = Field(default=None, ge=5, le=525_600)
    unqueued_timeout_minutes: int | None = Field(default=None, ge=5, le=525_600)
    # The company's hours, for queues that have none of their own.
    business_hours: BusinessHours | None = None
    # The texts of the company's own language (the same as bot_texts_by_language[language]),
    # kept as the first version's field: reading and writing it reads and writes that entry.
    bot_texts: BotTexts = Field(default_factory=dict)
    bot_texts_by_language: BotTextsByLanguage = Field(default_factory=dict)


SETTING_KEYS = tuple(CompanySettings.model_fields)


# The default of a settings PATCH field: "keep the current value". It is not a valid value of
# the non-nullable settings, so an explicit null for one of them is a 422.
_KEEP: Any = None


def _without_defaults(schema: dict[str, Any]) -> None:
    # A PATCH field has no default: leaving it out keeps the current value.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class CompanySettingsUpdate(StrictModel):
    """Some settings: only the keys present change. A null is allowed where the setting is
    nullable (fallback_queue_id, inactivity_close_minutes, unqueued_timeout_minutes,
    business_hours)."""

    model_config = ConfigDict(json_schema_extra=_without_defaults)

    language: Literal["pt-BR", "en", "es"] = Field(default=_KEEP)
    timezone: Timezone = Field(default=_KEEP)
    human_keywords: Keywords = Field(default=_KEEP)
    optout_keywords: Keywords = Field(default=_KEEP)
    optin_keywords: Keywords = Field(default=_KEEP)
    csat_enabled: bool = Field(default=_KEEP)
    csat_timeout_minutes: int = Field(default=_KEEP, ge=1, le=10080)
    triage_max_misses: int = Field(default=_KEEP, ge=1, le=10)
    fallback_queue_id: DbId | None = None
    out_of_hours_action: Literal["pending", "closed"] = Field(default=_KEEP)
    inactivity_close_minutes: int | None = Field(default=None, ge=5, le=525_600)
    unqueued_timeout_minutes: int | None = Field(default=None, ge=5, le=525_600)
    business_hours: BusinessHours | None = None
    bot_texts: BotTexts = Field(default=_KEEP)
    bot_texts_by_language: BotTextsByLanguage = Field(default=_KEEP)
