"""The bot's texts: defaults per language, company overrides, and `{{variable}}` rendering."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flows.context import BotConfig, Conversation, Language

__all__ = [
    "CONTACT_VARIABLES",
    "CUSTOM_PREFIX",
    "DEFAULT_TEXTS",
    "TEXT_KEYS",
    "VARIABLES",
    "fill",
    "greeting_at",
    "greeting_for",
    "render",
    "say",
    "text_for",
    "unknown_variable_message",
    "unknown_variables",
    "variables_in",
]

# What the bot's texts and quick replies may use (a conversation is there to fill them).
VARIABLES = ("name", "first_name", "queue", "agent", "protocol", "greeting")
# What campaigns and scheduled messages may use: no conversation, the contact's own fields,
# `{{custom.key}}` included.
CONTACT_VARIABLES = ("name", "first_name", "number", "greeting")
CUSTOM_PREFIX = "custom."

DEFAULT_TEXTS: Mapping[Language, Mapping[str, str]] = {
    "pt-BR": {
        "welcome": "{{greeting}}, {{first_name}}! Seja bem-vindo(a).",
        "menu_header": "Escolha uma das opções abaixo, respondendo com o número:",
        "submenu_header": "Escolha uma opção:",
        "not_understood": "Desculpe, não entendi. Responda com o número de uma das opções.",
        "fallback": "Vou encaminhar você para um atendente. Aguarde, por favor.",
        "queue_chosen": "Certo, vou encaminhar você para {{queue}}.",
        "waiting": "Em instantes um atendente vai falar com você. Protocolo: {{protocol}}.",
        "out_of_hours": (
            "Olá, {{first_name}}! Estamos fora do horário de atendimento. "
            "Responderemos assim que possível. Protocolo: {{protocol}}."
        ),
        "human_handoff": (
            "Certo, {{first_name}}! Vou chamar um atendente. Protocolo: {{protocol}}."
        ),
        "optout": (
            "Pronto, você não receberá mais nossas mensagens de campanha. "
            "Para voltar a receber, envie VOLTAR."
        ),
        "optin": "Pronto, você voltará a receber nossas mensagens.",
        "csat_question": (
            "Seu atendimento com {{agent}} foi encerrado. "
            "De 1 a 5, qual nota você dá para o atendimento?"
        ),
        "csat_thanks": "Obrigado pela sua avaliação, {{first_name}}!",
        "csat_invalid": "Por favor, responda com um número de 1 a 5.",
        "back_hint": "0 - Voltar",
        "main_menu_hint": "# - Menu principal",
        "menu_end": "Atendimento encerrado. Obrigado pelo contato! Protocolo: {{protocol}}.",
    },
    "en": {
        "welcome": "{{greeting}}, {{first_name}}! Welcome.",
        "menu_header": "Choose one of the options below by replying with its number:",
        "submenu_header": "Choose an option:",
        "not_understood": "Sorry, I didn't understand. Please reply with the number of an option.",
        "fallback": "I'll forward you to an agent. Please wait.",
        "queue_chosen": "Alright, I'll forward you to {{queue}}.",
        "waiting": "An agent will be with you shortly. Protocol: {{protocol}}.",
        "out_of_hours": (
            "Hi, {{first_name}}! We are currently closed. "
            "We will reply as soon as possible. Protocol: {{protocol}}."
        ),
        "human_handoff": "Sure, {{first_name}}! I'm calling an agent. Protocol: {{protocol}}.",
        "optout": (
            "Done, you will no longer receive our campaign messages. "
            "To receive them again, send VOLTAR."
        ),
        "optin": "Done, you will receive our messages again.",
        "csat_question": (
            "Your conversation with {{agent}} was closed. "
            "From 1 to 5, how would you rate our service?"
        ),
        "csat_thanks": "Thank you for your rating, {{first_name}}!",
        "csat_invalid": "Please reply with a number from 1 to 5.",
        "back_hint": "0 - Back",
        "main_menu_hint": "# - Main menu",
        "menu_end": "Conversation closed. Thank you for reaching out! Protocol: {{protocol}}.",
    },
    "es": {
        "welcome": "{{greeting}}, {{first_name}}! Bienvenido(a).",
        "menu_header": "Elige una de las opciones respondiendo con el número:",
        "submenu_header": "Elige una opción:",
        "not_understood": "Disculpa, no entendí. Responde con el número de una de las opciones.",
        "fallback": "Te voy a transferir a un agente. Espera, por favor.",
        "queue_chosen": "Bien, te voy a transferir a {{queue}}.",
        "waiting": "En breve un agente hablará contigo. Protocolo: {{protocol}}.",
        "out_of_hours": (
            "¡Hola, {{first_name}}! Estamos fuera del horario de atención. "
            "Responderemos lo antes posible. Protocolo: {{protocol}}."
        ),
        "human_handoff": (
            "¡Claro, {{first_name}}! Voy a llamar a un agente. Protocolo: {{protocol}}."
        ),
        "optout": (
            "Listo, ya no recibirás nuestros mensajes de campaña. "
            "Para volver a recibirlos, envía VOLTAR."
        ),
        "optin": "Listo, volverás a recibir nuestros mensajes.",
        "csat_question": (
            "Tu atención con {{agent}} ha finalizado. Del 1 al 5, ¿qué nota le das a la atención?"
        ),
        "csat_thanks": "¡Gracias por tu evaluación, {{first_name}}!",
        "csat_invalid": "Por favor, responde con un número del 1 al 5.",
        "back_hint": "0 - Volver",
        "main_menu_hint": "# - Menú principal",
        "menu_end": "Atención finalizada. ¡Gracias por contactarnos! Protocolo: {{protocol}}.",
    },
}

TEXT_KEYS = tuple(DEFAULT_TEXTS["pt-BR"])

_GREETINGS: Mapping[Language, tuple[str, str, str]] = {
    "pt-BR": ("Bom dia", "Boa tarde", "Boa noite"),
    "en": ("Good morning", "Good afternoon", "Good evening"),
    "es": ("Buenos días", "Buenas tardes", "Buenas noches"),
}

# One syntax for every template of the product: `{{ name }}`, `{{custom.key}}`.
_VARIABLE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")

_UNKNOWN_VARIABLE: Mapping[Language, str] = {
    "pt-BR": "Variável desconhecida: {{{{{name}}}}}. Use uma destas: {allowed}.",
    "en": "Unknown variable: {{{{{name}}}}}. Use one of: {allowed}.",
    "es": "Variable desconocida: {{{{{name}}}}}. Usa una de estas: {allowed}.",
}


def text_for(key: str, *, config: BotConfig) -> str:
    """The company's text `key` if it overrides it, else the default of its language."""
    if key in config.texts:
        return config.texts[key]
    defaults = DEFAULT_TEXTS.get(config.language, DEFAULT_TEXTS["pt-BR"])
    return defaults[key]


def greeting_at(now: datetime, *, zone: ZoneInfo, language: Language) -> str:
    """ "Bom dia" (05-12h), "Boa tarde" (12-18h) or "Boa noite" at `now` in `zone`."""
    hour = now.astimezone(zone).hour
    morning, afternoon, evening = _GREETINGS.get(language, _GREETINGS["pt-BR"])
    if 5 <= hour < 12:
        return morning
    if 12 <= hour < 18:
        return afternoon
    return evening


def greeting_for(*, config: BotConfig, conversation: Conversation) -> str:
    """The greeting in the conversation's queue's zone when its hours have one, else the
    company's hours' zone, else the company's time zone: never UTC by accident."""
    queue = config.queue(conversation.queue_id)
    hours = queue.business_hours if queue and queue.business_hours else config.business_hours
    zone = hours.zone if hours else ZoneInfo(config.timezone)
    return greeting_at(conversation.now, zone=zone, language=config.language)


def fill(
    template: str, values: Mapping[str, str], *, missing: Literal["keep", "blank"] = "keep"
) -> str:
    """The product's one renderer: `template` with each ``{{variable}}`` found in `values`
    replaced; one not found is kept as written, or blanked (`missing="blank"`: a campaign's
    customer should never read "{{cidade}}" because one contact lacks that field)."""
    if "{{" not in template:
        return template
    if missing == "blank":
        return _VARIABLE.sub(lambda match: values.get(match.group(1), ""), template)
    return _VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def variables_in(template: str) -> list[str]:
    """The variable names `template` uses, in order, each once."""
    return list(dict.fromkeys(match.group(1) for match in _VARIABLE.finditer(template)))


def unknown_variables(template: str, allowed: Iterable[str], *, custom: bool = False) -> list[str]:
    """The variables of `template` not in `allowed` (with `custom`, any `custom.key` is
    allowed too); what a save refuses."""
    known = set(allowed)
    return [
        name
        for name in variables_in(template)
        if name not in known and not (custom and name.startswith(CUSTOM_PREFIX))
    ]


def unknown_variable_message(name: str, allowed: Iterable[str], *, language: str) -> str:
    """The 422 message naming an unknown variable, in `language` (pt-BR when unknown)."""
    listed = ", ".join("{{" + known + "}}" for known in allowed)
    template = _UNKNOWN_VARIABLE.get(language, _UNKNOWN_VARIABLE["pt-BR"])  # type: ignore[call-overload]
    return str(template.format(name=name, allowed=listed))


def render(
    template: str,
    *,
    config: BotConfig,
    conversation: Conversation,
    queue_name: str | None = None,
) -> str:
    """`template` with its variables filled in; unknown ``{{variables}}`` are left as written."""
    if "{{" not in template:
        return template
    name = conversation.contact_name.strip()
    values = {
        "name": name,
        "first_name": name.split()[0] if name else "",
        "queue": queue_name or "",
        "agent": conversation.agent_name or "",
        "protocol": conversation.protocol,
        "greeting": greeting_for(config=config, conversation=conversation),
    }
    return fill(template, values)


def say(
    dispatcher: Any,
    template: str,
    *,
    config: BotConfig,
    conversation: Conversation,
    queue_name: str | None = None,
) -> None:
    """Renders `template` and sends it through the rasa dispatcher, unless it is empty."""
    text = render(template, config=config, conversation=conversation, queue_name=queue_name)
    if text.strip():
        dispatcher.utter_message(text=text)
