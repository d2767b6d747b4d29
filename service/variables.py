"""The save-time check of `{{variables}}`: one place for bot texts, quick replies,
campaigns and scheduled messages, so a template that would reach a customer with a raw
"{{primeiro_nome}}" is refused (422 naming the variable, in the user's language)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flows.texts import (
    CONTACT_VARIABLES,
    VARIABLES,
    unknown_variable_message,
    unknown_variables,
)
from service.auth.tokens import Principal
from service.errors import InvalidFields

__all__ = ["check_bot_variables", "check_contact_variables", "language_of", "templates_in"]


# In a menu tree, the texts the bot says are the options' titles (the menu's lines) and
# messages (keys and keywords are matched, not said); any other body is walked whole.
_MENU_KEYS = frozenset({"title", "message", "children"})


def templates_in(given: Mapping[str, Any], fields: Iterable[str]) -> dict[str, str]:
    """The texts of `fields` in a request body (as JSON), by their dotted path, as the 422
    names them: `greeting`, `bot_texts_by_language.en.welcome`, `options.0.children.1.message`
    (in a list of menu options, only what the bot says)."""
    found: dict[str, str] = {}

    def walk(path: str, value: Any, keys: frozenset[str] | None) -> None:
        if isinstance(value, str):
            found[path] = value
        elif isinstance(value, Mapping):
            for key, inner in value.items():
                if keys is None or key in keys:
                    walk(f"{path}.{key}", inner, keys)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{path}.{index}", inner, _MENU_KEYS)

    for name in fields:
        if given.get(name) is not None:
            walk(name, given[name], None)
    return found


async def language_of(actor: Principal) -> str:
    """The language the actor reads: the user's own, else (an API token) the company's."""
    from service.companies.service import get_company_settings
    from service.users.models import User

    if actor.user_id is not None:
        language = await User.filter(id=actor.user_id).first().values_list("language", flat=True)
        if language:
            return str(language)
    return (await get_company_settings(company_id=actor.company_id)).language


async def _refuse(
    actor: Principal,
    templates: Mapping[str, str],
    allowed: tuple[str, ...],
    *,
    custom: bool,
    extra: Iterable[str] = (),
) -> None:
    known = (*allowed, *extra)
    for field, template in templates.items():
        unknown = unknown_variables(template, known, custom=custom)
        if unknown:
            language = await language_of(actor)
            message = unknown_variable_message(unknown[0], allowed, language=language)
            raise InvalidFields({field: message}, message=message)


async def check_bot_variables(*, actor: Principal, templates: Mapping[str, str]) -> None:
    """Bot texts, greetings, menus and quick replies: only the conversation's variables
    (VARIABLES)."""
    await _refuse(actor, templates, VARIABLES, custom=False)


async def check_contact_variables(
    *,
    actor: Principal,
    templates: Mapping[str, str],
    custom_fields: Iterable[Mapping[str, Any]] | None = None,
) -> None:
    """Campaigns and scheduled messages: the contact's variables, any `{{custom.key}}`,
    and a bare `{{key}}` that is a custom field of one of `custom_fields` (read only when a
    template uses a name that is not built in; None: every contact of the company)."""
    bare = {
        name
        for template in templates.values()
        for name in unknown_variables(template, CONTACT_VARIABLES, custom=True)
    }
    extra: set[str] = set()
    if bare:
        if custom_fields is None:
            from service.contacts.models import Contact
            from service.tenancy import scoped

            custom_fields = await scoped(Contact, actor.company_id).values_list(
                "custom_fields", flat=True
            )  # type: ignore[assignment]
        for fields in custom_fields or ():
            extra.update(str(key) for key in (fields or {}) if str(key) in bare)
    await _refuse(actor, templates, CONTACT_VARIABLES, custom=True, extra=extra)
