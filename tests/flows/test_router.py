"""The aiogram-style router: filters, states, nesting, first match, argument injection."""

from __future__ import annotations

from typing import Any

import pytest

from flows.events import Event, SlotSet
from flows.filters import F, Message, contains_word, is_exactly, normalize
from flows.router import Router, SkipHandler, State, StatesGroup


class Form(StatesGroup):
    name = State()
    age = State()


async def dispatch(router: Router, text: str, **context: Any) -> list[Event] | None:
    context.setdefault("state", None)
    return await router.propagate(Message(text), **context)


def test_normalize_strips_accents_case_and_spaces() -> None:
    assert normalize("  Olá   MUNDO\n") == "ola mundo"
    assert Message(" Ação ").normalized == "acao"
    assert contains_word("quero um atendente agora", "ATENDENTE")
    assert not contains_word("atendentes", "atendente")
    assert contains_word("falar com a pessoa", "com a pessoa")
    assert is_exactly("sair!!", "SAIR")
    assert not is_exactly("nao vou sair", "sair")


def test_states_have_group_names_and_compare_with_strings() -> None:
    assert Form.name.state == "Form:name"
    assert Form.name == "Form:name"
    assert Form.states() == (Form.name, Form.age)
    assert State("custom").state == "custom"
    with pytest.raises(RuntimeError):
        _ = State().state


async def test_magic_filters_match_text_and_normalized_text() -> None:
    router = Router()

    @router.message(F.text == "1")
    def one() -> list[Event]:
        return [SlotSet("picked", 1)]

    @router.message(F.normalized.in_({"oi", "ola"}))
    def hello() -> list[Event]:
        return [SlotSet("picked", "hello")]

    assert await dispatch(router, "1") == [SlotSet("picked", 1)]
    assert await dispatch(router, "  OLÁ ") == [SlotSet("picked", "hello")]
    assert await dispatch(router, "2") is None


async def test_callable_filters_get_named_arguments_and_may_inject_values() -> None:
    router = Router()
    seen: dict[str, Any] = {}

    def has_number(message: Message) -> dict[str, int] | None:
        digits = [int(c) for c in message.text if c.isdigit()]
        return {"number": digits[0]} if digits else None

    async def is_vip(config: dict[str, bool]) -> bool:
        return config["vip"]

    @router.message(has_number, is_vip)
    async def vip_number(number: int, message: Message) -> list[Event]:
        seen.update(number=number, text=message.text)
        return [SlotSet("n", number)]

    assert await dispatch(router, "option 7", config={"vip": True}) == [SlotSet("n", 7)]
    assert seen == {"number": 7, "text": "option 7"}
    assert await dispatch(router, "option 7", config={"vip": False}) is None
    assert await dispatch(router, "no digits", config={"vip": True}) is None


async def test_a_later_filter_sees_what_an_earlier_one_injected() -> None:
    router = Router()

    @router.message(lambda message: {"word": message.normalized}, lambda word: word == "ok")
    def okay(word: str) -> list[Event]:
        return [SlotSet("word", word)]

    assert await dispatch(router, "OK") == [SlotSet("word", "ok")]
    assert await dispatch(router, "no") is None


async def test_handlers_receive_only_what_they_name_or_everything_with_kwargs() -> None:
    router = Router()
    received: list[Any] = []

    @router.message(F.text == "a")
    def named(state: str | None) -> None:
        received.append(state)

    @router.message(F.text == "b")
    def everything(**kwargs: Any) -> None:
        received.append(sorted(kwargs))

    assert await dispatch(router, "a", state=None, unused=1) == []
    assert await dispatch(router, "b", state=None, unused=1) == []
    assert received == [None, ["message", "state", "unused"]]


async def test_sync_and_async_handlers_both_work_and_none_means_handled() -> None:
    router = Router()

    @router.message(F.text == "sync")
    def sync_handler() -> list[Event]:
        return [SlotSet("kind", "sync")]

    @router.message(F.text == "async")
    async def async_handler() -> list[Event]:
        return [SlotSet("kind", "async")]

    @router.message(F.text == "quiet")
    def quiet() -> None:
        return None

    assert await dispatch(router, "sync") == [SlotSet("kind", "sync")]
    assert await dispatch(router, "async") == [SlotSet("kind", "async")]
    assert await dispatch(router, "quiet") == []


async def test_state_filters_by_current_step() -> None:
    router = Router()

    @router.message(state=Form.name)
    def got_name() -> list[Event]:
        return [SlotSet("step", Form.age.state)]

    @router.message(state=[Form.age, "other"])
    def got_age() -> list[Event]:
        return [SlotSet("step", None)]

    @router.message(state=None)
    def start() -> list[Event]:
        return [SlotSet("step", Form.name.state)]

    assert await dispatch(router, "x", state=None) == [SlotSet("step", "Form:name")]
    assert await dispatch(router, "x", state="Form:name") == [SlotSet("step", "Form:age")]
    assert await dispatch(router, "x", state="other") == [SlotSet("step", None)]
    assert await dispatch(router, "x", state="unknown") is None


async def test_first_match_wins_in_registration_and_inclusion_order() -> None:
    root, child, grandchild = Router(name="root"), Router(name="child"), Router(name="grand")

    @root.message(F.text == "x")
    def root_first() -> list[Event]:
        return [SlotSet("by", "root-first")]

    root.include_router(child)
    child.include_router(grandchild)

    @grandchild.message(F.text.in_({"x", "y"}))
    def grand() -> list[Event]:
        return [SlotSet("by", "grandchild")]

    @child.message(F.text.in_({"y", "z"}))
    def child_handler() -> list[Event]:
        return [SlotSet("by", "child")]

    @root.message()
    def root_last() -> list[Event]:
        return [SlotSet("by", "root-last")]

    assert await dispatch(root, "x") == [SlotSet("by", "root-first")]
    assert await dispatch(root, "y") == [SlotSet("by", "grandchild")]
    assert await dispatch(root, "z") == [SlotSet("by", "child")]
    assert await dispatch(root, "w") == [SlotSet("by", "root-last")]


async def test_router_level_filters_guard_all_its_handlers() -> None:
    root, guarded = Router(), Router()
    guarded.filter(lambda allowed: allowed)

    @guarded.message()
    def inside() -> list[Event]:
        return [SlotSet("by", "guarded")]

    root.include_router(guarded)

    @root.message()
    def outside() -> list[Event]:
        return [SlotSet("by", "root")]

    assert await dispatch(root, "x", allowed=True) == [SlotSet("by", "guarded")]
    assert await dispatch(root, "x", allowed=False) == [SlotSet("by", "root")]


async def test_skip_handler_passes_the_message_on() -> None:
    router = Router()

    @router.message()
    def declines() -> list[Event]:
        raise SkipHandler

    @router.message()
    def takes() -> list[Event]:
        return [SlotSet("by", "second")]

    assert await dispatch(router, "x") == [SlotSet("by", "second")]


def test_including_a_router_in_itself_or_a_descendant_is_refused() -> None:
    parent, child = Router(name="p"), Router(name="c")
    parent.include_router(child)
    with pytest.raises(ValueError, match="cycle"):
        child.include_router(parent)
    with pytest.raises(ValueError, match="cycle"):
        parent.include_router(parent)
    other = Router(name="o")
    other.include_router(child)  # a router may be shared by several parents
