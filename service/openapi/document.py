"""`complete_document(app)`: finish every operation of the document when the server starts,
once its paths are known: the error answers, the path parameters' descriptions and the
operation ids."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import partial
from typing import Any

from sanic import Sanic
from sanic_ext.config import PRIORITY as SANIC_EXT_PRIORITY
from sanic_ext.extensions.openapi.builders import OperationBuilder, SpecificationBuilder

from service.errors import ErrorOut
from service.openapi.errors import derived_errors
from service.openapi.models import RawObject, register_models
from service.openapi.operations import location, noun, operation_ids, success, unique
from service.openapi.routes import ROUTE_OPTIONS, RouteOptions, operation_store

__all__ = ["complete_document"]


def complete_document(app: Sanic[Any, Any]) -> None:
    """Finish each operation of the document once sanic-ext has built it, at server start.

    sanic-ext puts the routes in the document from a listener of low priority (so that every
    route is there by then); this one's is lower still, to run after it."""

    async def finish(app: Sanic[Any, Any]) -> None:
        _finish_operations(app)

    app.before_server_start(finish, priority=SANIC_EXT_PRIORITY - 1)


def _handler_of(operation: OperationBuilder, handlers: Mapping[int, Any]) -> Any:
    handler = handlers.get(id(operation))
    # A websocket route's handler is Sanic's partial around ours (which has our docstring
    # and our `documented()` options; the partial's "docstring" is partial's own).
    if isinstance(handler, partial) and handler.args and callable(handler.args[0]):
        return handler.args[0]
    return handler


def _adopt(operation: OperationBuilder, source: OperationBuilder, handler: Any) -> None:
    """Give the operation sanic-ext made for a wrapped handler what `source` says of ours."""
    docstring = inspect.getdoc(handler)
    operation._autodoc = None
    if docstring:
        operation.autodoc(docstring)
    for name in ("summary", "description", "operationId", "requestBody"):
        if name in vars(source):
            setattr(operation, name, getattr(source, name))
    known = {p.fields.get("name") for p in operation.parameters}
    operation.parameters.extend(p for p in source.parameters if p.fields.get("name") not in known)
    operation.responses.update(source.responses)
    if not operation.security:
        operation.security.extend(source.security)


def _finish_operations(app: Sanic[Any, Any]) -> None:
    register_models(ErrorOut)
    store = operation_store()
    handlers = {id(operation): handler for handler, operation in store.items()}
    spec = SpecificationBuilder()
    found: list[tuple[str, str, OperationBuilder, Any]] = []
    for path, operations in spec._paths.items():
        for method, operation in operations.items():
            if isinstance(operation, OperationBuilder) and operation._app is app:
                found.append((path, method, operation, _handler_of(operation, handlers)))
    candidates: dict[OperationBuilder, tuple[str, ...]] = {}
    for path, method, operation, handler in found:
        own = store.get(handler) if handler is not None else None
        if own is not None and own is not operation:
            _adopt(operation, own, handler)
        options = ROUTE_OPTIONS.get(own or operation) or RouteOptions()
        for parameter in operation.parameters:
            name = parameter.fields.get("name")
            if location(parameter) == "path" and not parameter.fields.get("description"):
                parameter.fields["description"] = f"The {noun(str(name))}'s id"
        # Keyed by int or str: sanic-ext keeps the status as the route's decorator gave it.
        responses: dict[Any, Any] = operation.responses
        for status, answer in derived_errors(method, path, operation, options).items():
            if status not in responses and str(status) not in responses:
                responses[status] = RawObject(answer)
        if not any(str(status)[0] in "123" for status in responses):
            responses[options.status] = RawObject({"description": success(options.status)})
        ordered = sorted(responses.items(), key=lambda item: str(item[0]))
        responses.clear()
        responses.update(ordered)
        # The route's name (the handler's unless the route was given one): "auth.login".
        route_name = str(operation._default.get("operationId", "")).partition("~")[2]
        name = route_name.rpartition(".")[2] or getattr(handler, "__name__", method)
        resource = operation.tags[0] if operation.tags else None
        if options.operation_id:
            candidates[operation] = (options.operation_id,) * 3
        else:
            short, full = operation_ids(resource, name)
            candidates[operation] = (short, full, f"{full}{method.capitalize()}")
    for operation, operation_id in unique(candidates).items():
        operation.name(operation_id)
