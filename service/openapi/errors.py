"""The error answers a route can give, derived from what it is: its method, path, body, query,
security and `requires(...)` roles. Each says when it happens; all have the ErrorOut shape
(service.errors) unless the route answers that status with a body of its own."""

from __future__ import annotations

import re
from typing import Any

from sanic_ext.extensions.openapi.builders import OperationBuilder

from service.errors import ErrorOut
from service.openapi.models import REF_TEMPLATE, model_ref
from service.openapi.operations import location, noun
from service.openapi.routes import RouteOptions

__all__ = ["derived_errors"]

_ERROR_SCHEMA = {"$ref": REF_TEMPLATE.format(model=ErrorOut.__name__)}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_WRITES = frozenset({"post", "put", "patch", "delete"})


def _answer(
    description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _forbidden(options: RouteOptions) -> str | None:
    if options.super_admin:
        return "The caller is not a super-admin (only a super-admin may do this)"
    if options.roles:
        return f"The caller's role may not do this (allowed: {', '.join(options.roles)})"
    return None


def derived_errors(
    method: str, path: str, operation: OperationBuilder, options: RouteOptions
) -> dict[int, dict[str, Any]]:
    """The error answers a route can give, from what it is: see the module's docstring."""
    request_body = getattr(operation, "requestBody", None)
    media = set((request_body.fields.get("content") or {}) if request_body else ())
    upload = "multipart/form-data" in media
    has_query = any(location(p) == "query" for p in operation.parameters)
    ids = [name for name in re.findall(r"{(\w+)}", path) if name.endswith("_id")]
    found: dict[int, str] = {}
    if request_body is not None:
        found[400] = "The body is not valid JSON, nests too deeply or is not of its media type"
        found[413] = (
            "The file is larger than this route's limit, or the body larger than the server"
            " accepts (MAX_BODY_BYTES)"
            if upload
            else "The body is larger than the server accepts (MAX_BODY_BYTES)"
        )
    if request_body is not None or has_query:
        where = " and ".join(
            part
            for part, present in (("body", request_body is not None), ("query", has_query))
            if present
        )
        found[422] = (
            f"Some fields of the {where} are invalid: `error.fields` names each one (its"
            " dotted path) with what is wrong"
        )
    if operation.security:
        found[401] = (
            "No bearer token, or one that is invalid or expired, or its user or company has"
            " been deactivated since"
        )
        if (forbidden := _forbidden(options)) is not None:
            found[403] = forbidden
    if ids:
        nouns = " or ".join(f"no such {noun(name)}" for name in ids)
        found[404] = (
            f"{nouns[0].upper()}{nouns[1:]} that the caller may see (another company's are"
            " a 404 too, as if they did not exist)"
        )
    if method in _WRITES:
        found[409] = "The change conflicts with the current state of what it changes"
    found[503] = (
        "The database or the broker is briefly unreachable, or the answer took too long:"
        " retry after the seconds in Retry-After"
    )
    found.update(options.errors)
    found.update({status: description for status, (_, description) in options.answers.items()})
    answers: dict[int, dict[str, Any]] = {}
    for status, description in sorted(found.items()):
        if status in options.without:
            continue
        own = options.answers.get(status)
        schema = model_ref(own[0]) if own else _ERROR_SCHEMA
        headers = _RETRY_AFTER if status in (429, 503) else None
        answers[status] = _answer(description, schema, headers)
    return answers
