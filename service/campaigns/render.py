"""A campaign (or scheduled) message for one contact: a variant picked at random, its
variables filled in by the product's one renderer (flows.texts.fill).

There is no conversation here, so the values are the contact's own fields, `{{custom.key}}`
included, and the greeting on the sender's clock. Unknown variables are refused when the
campaign is saved (service.variables); a custom field one contact lacks renders as nothing:
a customer should never read "{{cidade}}"."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.context import Language
from flows.texts import CUSTOM_PREFIX, fill, greeting_at

__all__ = ["contact_variables", "pick_variant", "render"]

_LANGUAGES: tuple[Language, ...] = ("pt-BR", "en", "es")


def contact_variables(
    *,
    name: str,
    number: str,
    custom_fields: Mapping[str, Any] | None,
    now: datetime | None = None,
    timezone: str = "America/Sao_Paulo",
    language: str | None = None,
) -> dict[str, str]:
    """The values a template may use: name, first_name, number, greeting (at `now` in
    `timezone`, when given) and each custom field (as `custom.key`, and as `key` unless that
    would hide a built-in)."""
    name = name.strip()
    values: dict[str, str] = {}
    for key, value in (custom_fields or {}).items():
        text = "" if value is None else str(value)
        values[CUSTOM_PREFIX + str(key)] = text
        values.setdefault(str(key), text)
    values.update({"name": name, "first_name": name.split()[0] if name else "", "number": number})
    if now is not None:
        spoken: Language = next((lang for lang in _LANGUAGES if lang == language), "pt-BR")
        values["greeting"] = greeting_at(now, zone=ZoneInfo(timezone), language=spoken)
    return values


def render(template: str, values: Mapping[str, str]) -> str:
    """`template` for one contact; a variable it has no value for renders as nothing."""
    return fill(template, values, missing="blank")


def pick_variant(variants: Sequence[str], rng: random.Random) -> tuple[int, str]:
    """One of the variants, uniformly: (its index, its text)."""
    index = rng.randrange(len(variants))
    return index, variants[index]
