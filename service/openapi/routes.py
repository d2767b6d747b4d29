"""`documented()`: what a route says of itself (body, query, success answer, security) and
what the finished document needs to know of it (`RouteOptions`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel
from sanic_ext import openapi
from sanic_ext.extensions.openapi.builders import OperationBuilder, OperationStore
from sanic_ext.extensions.openapi.definitions import Parameter

from service.openapi.info import BEARER
from service.openapi.models import (
    REF_TEMPLATE,
    RawObject,
    json_content,
    register_models,
    to_oas30,
)
from service.openapi.operations import success

__all__ = ["ROUTE_OPTIONS", "RouteOptions", "documented", "operation_store"]

F = TypeVar("F", bound=Callable[..., Any])

# `requires(...)` (service.auth.guard) records what it checks on its wrapper under this name,
# as a RouteGuard. This infrastructure package may not import a domain package (the
# import-linter contracts), so it reads the record by its shape.
_GUARD_ATTRIBUTE = "__atende_guard__"


@runtime_checkable
class _Guard(Protocol):
    roles: tuple[str, ...]  # the roles let through, by name; empty: every role
    super_admin: bool


@dataclass(frozen=True)
class RouteOptions:
    """What `documented()` knows of a route that the finished document needs."""

    status: int = 200
    roles: tuple[str, ...] = ()  # the roles `requires(...)` lets through; empty: every role
    super_admin: bool = False
    errors: Mapping[int, str] = field(default_factory=dict)
    without: frozenset[int] = frozenset()
    answers: Mapping[int, tuple[type[BaseModel], str]] = field(default_factory=dict)
    operation_id: str | None = None


# Keyed by the operation's builder, which sanic-ext moves along when a decorator rewraps the
# handler (openapi.body does), so that the options follow the route's final handler.
ROUTE_OPTIONS: dict[OperationBuilder, RouteOptions] = {}


def operation_store() -> dict[Any, OperationBuilder]:
    """sanic-ext's operations by handler (a process-wide singleton)."""
    store: dict[Any, OperationBuilder] = OperationStore()  # type: ignore[no-untyped-call]
    return store


def _guard_of(handler: Callable[..., Any]) -> tuple[tuple[str, ...], bool]:
    """The roles and the super-admin flag that `requires(...)` checks for this handler.

    Read from the guard's own record, so that the documented 403s stay in step with the one
    check that answers them, with no second list per route."""
    guard = getattr(handler, _GUARD_ATTRIBUTE, None)
    if not isinstance(guard, _Guard):
        return (), False
    return tuple(guard.roles), bool(guard.super_admin)


def documented(
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    page_of: type[BaseModel] | None = None,
    status: int = 200,
    secured: bool = True,
    errors: Mapping[int, str] | None = None,
    without: Iterable[int] = (),
    answers: Mapping[int, tuple[type[BaseModel], str]] | None = None,
    operation_id: str | None = None,
) -> Callable[[F], F]:
    """Describe a route: its JSON body, query arguments, success response and bearer auth.

    Its error answers are derived when the server starts (service.openapi.errors); `errors`
    adds some or says better when one happens (status: description), `without` drops some,
    `answers` gives some a body of the route's own instead of ErrorOut (status: (model,
    description)), and `operation_id` replaces the derived `<resource>.<action>`."""

    def decorator(handler: F) -> F:
        roles, super_admin = _guard_of(handler)
        if body is not None:
            handler = openapi.body(json_content(body), required=True)(handler)
        if query is not None:
            schema = to_oas30(query.model_json_schema(ref_template=REF_TEMPLATE))
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                prop = dict(prop)
                description = prop.pop("description", None)  # the parameter's, not its schema's
                parameter = Parameter(
                    name,
                    RawObject(prop),
                    "query",
                    description=description,
                    required=name in required,
                )
                handler = openapi.parameter(parameter=parameter)(handler)
        if page_of is not None:
            handler = openapi.response(status, json_content(page_of, many=True), "A page")(handler)
        elif response is not None:
            handler = openapi.response(status, json_content(response), success(status))(handler)
        if secured:
            handler = openapi.secured(BEARER)(handler)
        register_models(*(model for model, _ in (answers or {}).values()))
        ROUTE_OPTIONS[operation_store()[handler]] = RouteOptions(
            status=status,
            roles=roles,
            super_admin=super_admin,
            errors=dict(errors or {}),
            without=frozenset(without),
            answers=dict(answers or {}),
            operation_id=operation_id,
        )
        return handler

    return decorator
