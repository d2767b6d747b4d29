"""SQL statements counted at the database client: every query method of asyncpg's Connection
is wrapped, and a statement is recorded under the label of the task that sent it.

The label is a context variable, so a task records under the label in force where it was
created, and nothing is recorded where no label is set: the wrapper is harmless elsewhere.
asyncpg sends one more statement whenever a pool connection goes back to its pool (the
"reset" query); it is recorded as its own kind, because it is the pool's, not the app's."""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from asyncpg.connection import Connection

__all__ = ["LABEL", "Statement", "StatementLog", "breakdown", "kind_of"]

LABEL: ContextVar[str | None] = ContextVar("bench_statement_label", default=None)

_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany")
_RESET_PREFIX = "SELECT pg_advisory_unlock_all();"


@dataclass(frozen=True)
class Statement:
    method: str
    query: str
    args: tuple[Any, ...]

    @property
    def kind(self) -> str:
        return kind_of(self.query)

    def short(self, width: int = 160) -> str:
        text = " ".join(self.query.split())
        return text if len(text) <= width else text[: width - 1] + "…"


def kind_of(query: str) -> str:
    """BEGIN, COMMIT, SELECT, INSERT, … or `pool-reset` for asyncpg's release query."""
    text = query.lstrip()
    if text.startswith(_RESET_PREFIX):
        return "pool-reset"
    word = text.split(None, 1)[0].upper() if text else "?"
    return word.rstrip(";")


class StatementLog:
    """Statements recorded per label, while installed."""

    def __init__(self) -> None:
        self._by_label: defaultdict[str, list[Statement]] = defaultdict(list)
        self._originals: dict[str, Callable[..., Awaitable[Any]]] = {}

    def install(self) -> None:
        """Wrap asyncpg's query methods (once)."""
        if self._originals:
            return
        for name in _METHODS:
            original = getattr(Connection, name)
            self._originals[name] = original
            setattr(Connection, name, self._wrapped(name, original))

    def uninstall(self) -> None:
        for name, original in self._originals.items():
            setattr(Connection, name, original)
        self._originals.clear()

    def _wrapped(
        self, name: str, original: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        log = self._by_label

        @wraps(original)
        async def wrapper(connection: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            label = LABEL.get()
            if label is not None:
                log[label].append(Statement(name, query, args))
            return await original(connection, query, *args, **kwargs)

        return wrapper

    @contextlib.contextmanager
    def labelled(self, label: str) -> Iterator[None]:
        """Record what this task (and the tasks it creates meanwhile) sends under `label`."""
        token = LABEL.set(label)
        try:
            yield
        finally:
            LABEL.reset(token)

    def take(self, label: str) -> list[Statement]:
        """What was recorded under `label`, forgotten afterwards."""
        return self._by_label.pop(label, [])


def breakdown(statements: list[Statement]) -> dict[str, int]:
    """How many statements of each kind, most frequent first."""
    return dict(Counter(s.kind for s in statements).most_common())
