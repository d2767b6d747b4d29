"""Triage: greeting and queue menu, the customer's choice, and each queue's option tree.

Steps (the ``step`` slot): none yet -> greeting and menu (`Triage.menu`); a queue with
options -> `Triage.options`, walking ``menu_path`` (keys from the queue's top level) in
``menu_queue_id``. Misses are counted in ``misses``; after ``triage_max_misses`` the
ticket goes to the fallback queue (main menu) or stays in its queue (sub-menu). An option
whose action is "end" closes the ticket (`MENU_END`), its message the farewell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz
from rasa_sdk import Tracker

from flows.builtin.hours import bot_is_talking, closed_since, hand_off, hours_for
from flows.context import BotConfig, Conversation, QueueInfo
from flows.events import CloseTicket, Event, SetQueue, SlotSet
from flows.filters import Message, contains_word, normalize
from flows.router import Router, State, StatesGroup
from flows.spec import MenuOption
from flows.texts import say, text_for

__all__ = [
    "FUZZY_THRESHOLD",
    "MENU_END",
    "Triage",
    "main_menu_text",
    "match_option",
    "match_queue",
    "options_text",
    "router",
    "start_queue",
]

FUZZY_THRESHOLD = 80
_MIN_TOKEN = 3  # "de", "do", "a": too short to say anything about a queue
_MAX_TOKENS = 50  # a pasted essay is not a menu answer; bounds the fuzzy matching work
# Words customers type for the "0" and "#" hints.
_BACK_WORDS = frozenset({"voltar", "back", "volver"})
_MAIN_MENU_WORDS = frozenset({"menu", "menu principal", "main menu", "inicio"})
MENU_END = "menu_end"
"""The reason of a close by a menu option whose action is "end"."""


class Triage(StatesGroup):
    """The triage steps."""

    menu = State()
    options = State()


router = Router(name="triage")
router.filter(bot_is_talking)


# Matching ------------------------------------------------------------------------------------


def _score(text: str, candidate: str) -> float:
    """How well the customer's normalized `text` matches a name or keyword (0-100)."""
    wanted = normalize(candidate)
    tokens = [token for token in text.split()[:_MAX_TOKENS] if len(token) >= _MIN_TOKEN]
    if not wanted or not tokens:
        return 0.0
    whole = fuzz.token_set_ratio(" ".join(tokens), wanted)
    per_token = max(fuzz.ratio(token, wanted) for token in tokens)
    return max(whole, per_token)


def _best(text: str, candidates: Sequence[tuple[Any, Sequence[str]]]) -> Any | None:
    best: Any | None = None
    best_score = float(FUZZY_THRESHOLD)
    for item, names in candidates:
        score = max((_score(text, name) for name in names), default=0.0)
        if score > best_score or (best is None and score >= best_score):
            best, best_score = item, score
    return best


def match_queue(message: Message, queues: Sequence[QueueInfo]) -> QueueInfo | None:
    """The queue the answer names: its menu number, name, a keyword in it, or close text."""
    text = message.normalized
    if text.isdigit():
        index = int(text)
        return queues[index - 1] if 1 <= index <= len(queues) else None
    for queue in queues:
        if normalize(queue.name) == text:
            return queue
    for queue in queues:
        if any(contains_word(text, keyword) for keyword in queue.keywords):
            return queue
    result: QueueInfo | None = _best(text, [(q, (q.name, *q.keywords)) for q in queues])
    return result


def match_option(message: Message, options: Sequence[MenuOption]) -> MenuOption | None:
    """The option the answer names: its key, its title, or close text."""
    text = message.normalized
    for option in options:
        if normalize(option.key) == text:
            return option
    for option in options:
        if normalize(option.title) == text:
            return option
    if text.isdigit():
        return None
    result: MenuOption | None = _best(text, [(o, (o.title,)) for o in options])
    return result


def _level(queue: QueueInfo, path: Sequence[str]) -> Sequence[MenuOption] | None:
    """The options shown at `path` of the queue's tree (None if the tree changed)."""
    options: Sequence[MenuOption] = queue.options
    for key in path:
        chosen = next((o for o in options if o.key == key and o.action == "submenu"), None)
        if chosen is None:
            return None
        options = chosen.children
    return options


# Texts ---------------------------------------------------------------------------------------


def main_menu_text(config: BotConfig) -> str:
    """The menu header and one ``"1 - Suporte"`` line per queue."""
    lines = [f"{index} - {queue.name}" for index, queue in enumerate(config.queues, start=1)]
    return "\n".join([text_for("menu_header", config=config), *lines]).strip()


def options_text(
    options: Sequence[MenuOption], *, config: BotConfig, back: bool, main_menu: bool
) -> str:
    """A sub-menu: ``"key - title"`` lines, then the back and main-menu hints that apply."""
    lines = [text_for("submenu_header", config=config)]
    lines += [f"{option.key} - {option.title}" for option in options]
    if back:
        lines.append(text_for("back_hint", config=config))
    if main_menu:
        lines.append(text_for("main_menu_hint", config=config))
    return "\n".join(line for line in lines if line.strip())


def _has_main_menu(config: BotConfig) -> bool:
    return len(config.queues) > 1


def _show_level(
    queue: QueueInfo,
    path: Sequence[str],
    options: Sequence[MenuOption],
    *,
    dispatcher: Any,
    config: BotConfig,
    conversation: Conversation,
) -> None:
    text = options_text(
        options,
        config=config,
        back=bool(path) or _has_main_menu(config),
        main_menu=_has_main_menu(config),
    )
    say(dispatcher, text, config=config, conversation=conversation, queue_name=queue.name)


def _show_main_menu(
    *, dispatcher: Any, config: BotConfig, conversation: Conversation
) -> list[Event]:
    say(dispatcher, main_menu_text(config), config=config, conversation=conversation)
    return [
        SlotSet("step", Triage.menu.state),
        SlotSet("menu_queue_id", None),
        SlotSet("menu_path", []),
        SlotSet("misses", 0),
    ]


# Steps ---------------------------------------------------------------------------------------


def start_queue(
    queue: QueueInfo,
    *,
    dispatcher: Any,
    tracker: Tracker,
    config: BotConfig,
    conversation: Conversation,
) -> list[Event]:
    """The queue is chosen: its greeting, then its options, or the handoff if it has none.

    Outside its hours the customer gets the out-of-hours text instead (see `hand_off`).
    """
    hours = hours_for(queue, config)
    closed = hours is not None and closed_since(hours, conversation.now) is not None
    if not closed:
        say(
            dispatcher,
            queue.greeting or text_for("queue_chosen", config=config),
            config=config,
            conversation=conversation,
            queue_name=queue.name,
        )
    if closed or not queue.options:
        return hand_off(
            queue.id,
            notice=None,
            dispatcher=dispatcher,
            tracker=tracker,
            config=config,
            conversation=conversation,
        )
    _show_level(
        queue, [], queue.options, dispatcher=dispatcher, config=config, conversation=conversation
    )
    return [
        SetQueue(queue.id),
        SlotSet("step", Triage.options.state),
        SlotSet("menu_queue_id", queue.id),
        SlotSet("menu_path", []),
        SlotSet("misses", 0),
    ]


def _miss(
    *,
    queue: QueueInfo | None,
    redisplay: str,
    dispatcher: Any,
    tracker: Tracker,
    config: BotConfig,
    conversation: Conversation,
) -> list[Event]:
    misses = int(tracker.get_slot("misses") or 0) + 1
    if misses >= max(1, config.triage_max_misses):
        return hand_off(
            queue.id if queue is not None else None,  # None: the fallback queue
            notice=text_for("fallback", config=config),
            dispatcher=dispatcher,
            tracker=tracker,
            config=config,
            conversation=conversation,
        )
    say(
        dispatcher,
        text_for("not_understood", config=config),
        config=config,
        conversation=conversation,
    )
    say(
        dispatcher,
        redisplay,
        config=config,
        conversation=conversation,
        queue_name=queue.name if queue else None,
    )
    return [SlotSet("misses", misses)]


@router.message(state=Triage.menu)
def choose_queue(
    message: Message,
    dispatcher: Any,
    tracker: Tracker,
    config: BotConfig,
    conversation: Conversation,
) -> list[Event]:
    """The answer to the queue menu: a queue, the menu again ("#", "0"), or a miss."""
    if message.normalized in {"#", "0", *_BACK_WORDS, *_MAIN_MENU_WORDS}:
        return _show_main_menu(dispatcher=dispatcher, config=config, conversation=conversation)
    queue = match_queue(message, config.queues)
    if queue is not None:
        return start_queue(
            queue, dispatcher=dispatcher, tracker=tracker, config=config, conversation=conversation
        )
    return _miss(
        queue=None,
        redisplay=main_menu_text(config),
        dispatcher=dispatcher,
        tracker=tracker,
        config=config,
        conversation=conversation,
    )


@router.message(state=Triage.options)
def choose_option(
    message: Message,
    dispatcher: Any,
    tracker: Tracker,
    config: BotConfig,
    conversation: Conversation,
) -> list[Event]:
    """The answer at a level of a queue's options: "0" back, "#" main menu, or an option."""
    context = {"dispatcher": dispatcher, "config": config, "conversation": conversation}
    queue = config.queue(tracker.get_slot("menu_queue_id"))
    path = [str(key) for key in tracker.get_slot("menu_path") or []]
    options = _level(queue, path) if queue is not None else None
    if queue is None or options is None:  # the menu changed under the customer: start over
        return greet(
            dispatcher=dispatcher, tracker=tracker, config=config, conversation=conversation
        )

    def show(new_path: list[str], level: Sequence[MenuOption]) -> list[Event]:
        assert queue is not None
        _show_level(queue, new_path, level, **context)
        return [SlotSet("menu_path", new_path), SlotSet("misses", 0)]

    text = message.normalized
    text = "0" if text in _BACK_WORDS else "#" if text in _MAIN_MENU_WORDS else text
    if text == "#" or (text == "0" and not path):
        if _has_main_menu(config):
            return [SetQueue(None), *_show_main_menu(**context)]
        return show([], queue.options)
    if text == "0":
        parent = _level(queue, path[:-1])
        assert parent is not None
        return show(path[:-1], parent)
    option = match_option(message, options)
    if option is None:
        back = bool(path) or _has_main_menu(config)
        return _miss(
            queue=queue,
            redisplay=options_text(
                options, config=config, back=back, main_menu=_has_main_menu(config)
            ),
            dispatcher=dispatcher,
            tracker=tracker,
            config=config,
            conversation=conversation,
        )
    if option.action == "end":
        return _end(option, queue, **context)
    if option.message:
        say(
            dispatcher,
            option.message,
            config=config,
            conversation=conversation,
            queue_name=queue.name,
        )
    if option.action == "submenu":
        return show([*path, option.key], option.children)
    if option.action == "queue":
        target = config.queue(option.queue_id)
        if target is not None:
            return start_queue(
                target,
                dispatcher=dispatcher,
                tracker=tracker,
                config=config,
                conversation=conversation,
            )
        forward_to: int | None = option.queue_id
    else:
        forward_to = queue.id
    notice = text_for("human_handoff", config=config) if option.action == "human" else None
    return hand_off(
        forward_to,
        notice=None if option.message else notice,
        dispatcher=dispatcher,
        tracker=tracker,
        config=config,
        conversation=conversation,
    )


def _end(
    option: MenuOption,
    queue: QueueInfo,
    *,
    dispatcher: Any,
    config: BotConfig,
    conversation: Conversation,
) -> list[Event]:
    """The customer chose to end: the option's message (or the default one) as the farewell,
    and the ticket closes; nobody handled it, so no rating is asked."""
    say(
        dispatcher,
        option.message or text_for("menu_end", config=config),
        config=config,
        conversation=conversation,
        queue_name=queue.name,
    )
    return [
        SlotSet("step", None),
        SlotSet("menu_queue_id", None),
        SlotSet("menu_path", []),
        SlotSet("misses", 0),
        CloseTicket(MENU_END),
    ]


@router.message()
def greet(
    dispatcher: Any, tracker: Tracker, config: BotConfig, conversation: Conversation
) -> list[Event]:
    """A new conversation: the connection's greeting and the queue menu (or the only queue)."""
    if conversation.queue_id is not None:
        preset = config.queue(conversation.queue_id)
        if preset is not None:
            return start_queue(
                preset,
                dispatcher=dispatcher,
                tracker=tracker,
                config=config,
                conversation=conversation,
            )
    say(
        dispatcher,
        config.connection_greeting or text_for("welcome", config=config),
        config=config,
        conversation=conversation,
    )
    if conversation.queue_id is not None or not config.queues:
        return hand_off(
            conversation.queue_id,
            notice=text_for("waiting", config=config),
            dispatcher=dispatcher,
            tracker=tracker,
            config=config,
            conversation=conversation,
        )
    if len(config.queues) == 1:
        return start_queue(
            config.queues[0],
            dispatcher=dispatcher,
            tracker=tracker,
            config=config,
            conversation=conversation,
        )
    return _show_main_menu(dispatcher=dispatcher, config=config, conversation=conversation)
