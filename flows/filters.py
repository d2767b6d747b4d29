"""What a filter sees (`Message`) and the filters the built-in flows share.

A filter is a magic filter (``F.text == "1"``, ``F.normalized.in_({"oi", "ola"})``) resolved
against the `Message`, or a plain callable that receives the handler arguments it names.
Either returns something falsy (no match), something truthy (match), or a dict of extra
handler arguments (match, and the values are injected into the handler).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from magic_filter import F, MagicFilter

__all__ = [
    "F",
    "Filter",
    "MagicFilter",
    "Message",
    "contains_word",
    "is_exactly",
    "normalize",
    "words_filter",
]

Filter = MagicFilter | Callable[..., Any]
"""A magic filter over `Message` or a callable receiving the handler arguments it names."""

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


# Filters normalize the same keywords for every message: remembered.
@functools.lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Casefolded, accents stripped, whitespace collapsed: "  Olá  Mundo" -> "ola mundo"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", stripped).strip()


@dataclass(frozen=True)
class Message:
    """The customer's text as the flows see it."""

    text: str
    normalized: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalized", normalize(self.text))


def contains_word(normalized_text: str, phrase: str) -> bool:
    """Whether `phrase` appears in `normalized_text` as whole words (accent/case-insensitive)."""
    wanted = normalize(phrase)
    if not wanted:
        return False
    return re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", normalized_text) is not None


def is_exactly(normalized_text: str, phrase: str) -> bool:
    """Whether the whole message is `phrase`, ignoring case, accents and edge punctuation."""
    wanted = _EDGE_PUNCTUATION.sub("", normalize(phrase))
    return bool(wanted) and _EDGE_PUNCTUATION.sub("", normalized_text) == wanted


def words_filter(
    phrases: Callable[..., Iterable[str]], *, whole_message: bool = False
) -> Callable[..., dict[str, str] | None]:
    """A filter matching any phrase of `phrases(config)`; injects the match as `keyword`."""

    def matches(message: Message, config: Any) -> dict[str, str] | None:
        test = is_exactly if whole_message else contains_word
        for phrase in phrases(config):
            if test(message.normalized, phrase):
                return {"keyword": phrase}
        return None

    return matches
