"""An aiogram-style router: handlers registered with filters and states, first match wins.

    router = Router(name="triage")

    @router.message(F.normalized == "oi", state=None)
    def hello(dispatcher: CollectingDispatcher) -> list[Event]:
        dispatcher.utter_message(text="Olá!")
        return [SlotSet("step", "greeted")]

Handlers and included routers are tried in the order they were registered or included;
the first handler whose state and filters all match handles the message. A handler
(sync or async) receives only the arguments it names, from the dispatch context
(message, tracker, dispatcher, config, conversation, state) and the dicts its filters
returned; it returns a list of events or None. Raising `SkipHandler` passes the message
on to the next candidate.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from magic_filter import MagicFilter

from flows.events import Event
from flows.filters import Filter, Message

__all__ = ["ANY_STATE", "Handler", "Router", "SkipHandler", "State", "StateSpec", "StatesGroup"]

HandlerFunc = TypeVar("HandlerFunc", bound=Callable[..., Any])


class _AnyState:
    def __repr__(self) -> str:
        return "ANY_STATE"


ANY_STATE: Final = _AnyState()
"""The default `state=` of a handler: it runs whatever the current step is."""


class State:
    """A named step; inside a `StatesGroup` its name is ``"Group:attribute"``."""

    def __init__(self, name: str | None = None) -> None:
        self._name = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        if self._name is None:
            self._name = f"{owner.__name__}:{attribute}"

    @property
    def state(self) -> str:
        """The step as stored in the ``step`` slot."""
        if self._name is None:
            raise RuntimeError("a State needs a name or a StatesGroup")
        return self._name

    def __str__(self) -> str:
        return self.state

    def __repr__(self) -> str:
        return f"State({self._name!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, State):
            return self._name == other._name
        if isinstance(other, str):
            return self._name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._name)


class StatesGroup:
    """A namespace of `State`s: ``class Triage(StatesGroup): menu = State()``."""

    @classmethod
    def states(cls) -> tuple[State, ...]:
        """The group's states in definition order."""
        return tuple(value for value in vars(cls).values() if isinstance(value, State))


StateSpec = str | State | None | _AnyState | Collection[str | State | None]


class SkipHandler(Exception):
    """Raised by a handler to let the next matching handler take the message."""


def _state_names(spec: StateSpec) -> frozenset[str | None] | None:
    """The allowed steps, or None for any step."""
    if isinstance(spec, _AnyState):
        return None
    if spec is None or isinstance(spec, str | State):
        return frozenset({_step(spec)})
    return frozenset(_step(item) for item in spec)


def _step(value: str | State | None) -> str | None:
    return value.state if isinstance(value, State) else value


def _read_parameters(func: Callable[..., Any]) -> tuple[str, ...] | None:
    """The names `func` takes, or None when it takes **kwargs (every name)."""
    parameters = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return tuple(parameters)


# Reading a signature costs more than most handlers: once per function (a handler, a
# filter), not once per message.
_cached_parameters = functools.lru_cache(maxsize=4096)(_read_parameters)


def _parameters(func: Callable[..., Any]) -> tuple[str, ...] | None:
    try:
        return _cached_parameters(func)
    except TypeError:  # an unhashable callable object
        return _read_parameters(func)


def _call_with(func: Callable[..., Any], context: Mapping[str, Any]) -> Any:
    """Calls `func` with the items of `context` it names (all of them if it takes **kwargs)."""
    names = _parameters(func)
    if names is None:
        return func(**context)
    return func(**{name: context[name] for name in names if name in context})


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _check(flt: Filter, context: Mapping[str, Any]) -> Any:
    """The filter's verdict: falsy (no match), truthy, or a dict of extra handler arguments."""
    if isinstance(flt, MagicFilter):
        return flt.resolve(context["message"])
    return await _resolve(_call_with(flt, context))


async def _check_all(filters: tuple[Filter, ...], context: dict[str, Any]) -> dict[str, Any] | None:
    """The extra arguments of `filters` if all match, else None; `context` is not changed."""
    extra: dict[str, Any] = {}
    for flt in filters:
        verdict = await _check(flt, {**context, **extra} if extra else context)
        if not verdict:
            return None
        if isinstance(verdict, dict):
            extra.update(verdict)
    return extra


@dataclass(frozen=True)
class Handler:
    """A registered handler with its filters and allowed steps (None: any step)."""

    callback: Callable[..., Any]
    filters: tuple[Filter, ...]
    states: frozenset[str | None] | None

    async def run(self, context: dict[str, Any]) -> list[Event] | None:
        """The handler's events if its state and filters match, else None (unhandled)."""
        if self.states is not None and context.get("state") not in self.states:
            return None
        extra = await _check_all(self.filters, context)
        if extra is None:
            return None
        try:
            arguments = {**context, **extra} if extra else context
            events = await _resolve(_call_with(self.callback, arguments))
        except SkipHandler:
            return None
        return list(events or [])


class Router:
    """Handlers and child routers, tried in registration order; the first match handles."""

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or hex(id(self))
        self._filters: tuple[Filter, ...] = ()
        self._entries: list[Handler | Router] = []

    def __repr__(self) -> str:
        return f"Router(name={self.name!r})"

    def filter(self, *filters: Filter) -> None:
        """Filters every message must pass before any handler of this router is tried."""
        self._filters += filters

    def message(
        self, *filters: Filter, state: StateSpec = ANY_STATE
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Registers the decorated function for messages passing `filters` in `state`."""

        def register(callback: HandlerFunc) -> HandlerFunc:
            self._entries.append(Handler(callback, filters, _state_names(state)))
            return callback

        return register

    def include_router(self, router: Router) -> Router:
        """Adds `router` after what is registered so far; returns it (it may be in several)."""
        if router is self or router._reaches(self):
            raise ValueError(f"including {router!r} in {self!r} would make a cycle")
        self._entries.append(router)
        return router

    def _reaches(self, other: Router) -> bool:
        return any(
            isinstance(entry, Router) and (entry is other or entry._reaches(other))
            for entry in self._entries
        )

    def include_routers(self, *routers: Router) -> None:
        """Includes each router in order."""
        for router in routers:
            self.include_router(router)

    async def propagate(self, message: Message, **context: Any) -> list[Event] | None:
        """The events of the first handler that takes `message`, or None if none does."""
        return await self._propagate({"message": message, **context})

    async def _propagate(self, context: dict[str, Any]) -> list[Event] | None:
        extra = await _check_all(self._filters, context)
        if extra is None:
            return None
        if extra:
            context = {**context, **extra}
        for entry in self._entries:
            if isinstance(entry, Router):
                events = await entry._propagate(context)
            else:
                events = await entry.run(context)
            if events is not None:
                return events
        return None
