"""A campaign message for one contact: a variant picked at random, its variables filled in.

flows.texts.render fills the bot's variables from a conversation (queue, agent, protocol,
greeting), which a campaign does not have; campaigns need the contact's own fields instead,
`{{custom.key}}` included, so they have this small renderer of the same `{{…}}` syntax.

Unlike the bot's texts, an unknown variable renders as nothing: a customer should never
read "{{cidade}}" because one contact lacks that custom field."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["contact_variables", "pick_variant", "render"]

_VARIABLE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
_CUSTOM = "custom."


def contact_variables(
    *, name: str, number: str, custom_fields: Mapping[str, Any] | None
) -> dict[str, str]:
    """The values a template may use: name, first_name, number and each custom field (as
    `custom.key`, and as `key` unless that would hide a built-in)."""
    name = name.strip()
    values: dict[str, str] = {}
    for key, value in (custom_fields or {}).items():
        text = "" if value is None else str(value)
        values[_CUSTOM + str(key)] = text
        values.setdefault(str(key), text)
    values.update({"name": name, "first_name": name.split()[0] if name else "", "number": number})
    return values


def render(template: str, values: Mapping[str, str]) -> str:
    if "{{" not in template:
        return template
    return _VARIABLE.sub(lambda match: values.get(match.group(1), ""), template)


def pick_variant(variants: Sequence[str], rng: random.Random) -> tuple[int, str]:
    """One of the variants, uniformly: (its index, its text)."""
    index = rng.randrange(len(variants))
    return index, variants[index]
