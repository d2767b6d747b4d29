"""How operations are named and described: success descriptions, path parameters' nouns and
operation ids `<resource>.<action>`.

The resource is the blueprint (`contactLists`) and the action the handler's name without the
resource's words (`list_contacts` in `contacts` is `contacts.list`, `get_members` in
`contact_lists` `contactLists.getMembers`)."""

from __future__ import annotations

from collections.abc import Mapping

from sanic_ext.extensions.openapi.builders import OperationBuilder
from sanic_ext.extensions.openapi.definitions import Parameter

__all__ = ["location", "noun", "operation_ids", "success", "unique"]

_SUCCESS = {
    101: "Switching protocols: the socket is open",
    201: "Created",
    202: "Accepted: the work goes on in the background",
    204: "Done; no content",
}
# The words a path parameter's name does not say by itself ("list_id": a contact list).
_PARAMETER_NOUNS = {
    "list": "contact list",
    "scheduled": "scheduled message",
    "token": "API token",
}


def success(status: int) -> str:
    """The description of a success answer with this status."""
    return _SUCCESS.get(status, "Success")


def noun(parameter: str) -> str:
    """What a path parameter names: "contact list" for `list_id`."""
    base = parameter.removesuffix("_id")
    return _PARAMETER_NOUNS.get(base, base.replace("_", " "))


def location(parameter: Parameter) -> str | None:
    """Where the parameter goes: "path", "query"…"""
    fields = parameter.fields  # sanic-ext renames "location" to "in" on the first read
    found = fields.get("in", fields.get("location"))
    return str(found) if found is not None else None


def _camel(words: list[str]) -> str:
    return words[0] + "".join(word.capitalize() for word in words[1:]) if words else ""


def _same_word(word: str, resource_word: str) -> bool:
    """Whether `word` names the resource: "ticket" in "tickets", "reply" in "quick_replies"."""
    return resource_word in (word, f"{word}s", f"{word}es") or (
        word.endswith("y") and resource_word == f"{word[:-1]}ies"
    )


def operation_ids(resource: str | None, handler_name: str) -> tuple[str, str]:
    """The short id (the resource's words taken out of the action) and the long one."""
    words = [word for word in handler_name.lower().split("_") if word]
    if not resource:
        return _camel(words), _camel(words)
    resource_words = resource.lower().split("_")
    action = [w for w in words if not any(_same_word(w, r) for r in resource_words)]
    prefix = _camel(resource_words)
    return f"{prefix}.{_camel(action or words[:1])}", f"{prefix}.{_camel(words)}"


def unique(candidates: Mapping[OperationBuilder, tuple[str, ...]]) -> dict[OperationBuilder, str]:
    """The first candidate of each operation that no other operation's candidate shares at
    that rank, whatever the order of the routes (the test of the document flags the rest)."""
    chosen: dict[OperationBuilder, str] = {}
    pending = dict(candidates)
    for rank in range(max((len(c) for c in candidates.values()), default=0)):
        counts: dict[str, int] = {}
        for names in pending.values():
            counts[names[rank]] = counts.get(names[rank], 0) + 1
        for operation, names in list(pending.items()):
            if counts[names[rank]] == 1 and names[rank] not in chosen.values():
                chosen[operation] = names[rank]
                del pending[operation]
    for operation, names in pending.items():
        chosen[operation] = f"{names[-1]}.{len(chosen)}"
    return chosen
