"""The OpenAPI document at /docs: pydantic models as components, routes described from them.

sanic-ext walks type hints itself and recurses forever on recursive models (the queue
options tree), and pydantic emits JSON Schema 2020-12; so models are registered here as
components, converted to what OpenAPI 3.0 accepts, and routes refer to them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic_ext import openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.definitions import Parameter
from sanic_ext.extensions.openapi.types import Schema

__all__ = ["BEARER", "documented", "register_models"]

BEARER = "bearerAuth"
_REF = "#/components/schemas/{model}"
_NULL = {"type": "null"}
_registered: set[str] = set()

F = TypeVar("F", bound=Callable[..., Any])


class _RawSchema(Schema):
    """A schema given as JSON, which sanic-ext would otherwise introspect as a Python object."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._raw = raw

    def serialize(self) -> dict[str, Any]:
        return self._raw


def _to_oas30(node: Any) -> Any:
    """Downgrade the parts of JSON Schema 2020-12 that OpenAPI 3.0 rejects."""
    if isinstance(node, list):
        return [_to_oas30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _to_oas30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        variants = node.get(key)
        if variants and _NULL in variants:
            rest = [v for v in variants if v != _NULL]
            del node[key]
            if len(rest) == 1:
                node.update(rest[0])
            else:
                node[key] = rest
            node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node.setdefault("example", examples[0])
    if "$ref" in node and len(node) > 1:  # siblings of $ref are ignored in 3.0
        node = {"allOf": [{"$ref": node.pop("$ref")}], **node}
    return node


def register_models(*models: type[BaseModel]) -> None:
    """Add models (and the models they contain) to the document's components."""
    spec = SpecificationBuilder()
    for model in models:
        if model.__name__ in _registered:
            continue
        schema = model.model_json_schema(ref_template=_REF)
        for name, sub in schema.pop("$defs", {}).items():
            spec.add_component("schemas", name, _to_oas30(sub))
            _registered.add(name)
        spec.add_component("schemas", model.__name__, _to_oas30(schema))
        _registered.add(model.__name__)


def _ref(model: type[BaseModel], *, many: bool = False) -> dict[str, Any]:
    register_models(model)
    schema: dict[str, Any] = {"$ref": _REF.format(model=model.__name__)}
    if many:
        schema = {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": schema},
                "next_cursor": {"type": "string", "nullable": True},
            },
        }
    return {"application/json": schema}


def documented(
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    page_of: type[BaseModel] | None = None,
    status: int = 200,
    secured: bool = True,
) -> Callable[[F], F]:
    """Describe a route: its JSON body, query arguments, success response and bearer auth."""

    def decorator(handler: F) -> F:
        if body is not None:
            handler = openapi.body(_ref(body), required=True)(handler)
        if query is not None:
            schema = _to_oas30(query.model_json_schema(ref_template=_REF))
            required = set(schema.get("required", []))
            for name, field in schema.get("properties", {}).items():
                parameter = Parameter(name, _RawSchema(field), "query", required=name in required)
                handler = openapi.parameter(parameter=parameter)(handler)
        if page_of is not None:
            handler = openapi.response(status, _ref(page_of, many=True), "a page")(handler)
        elif response is not None:
            handler = openapi.response(status, _ref(response), "success")(handler)
        if secured:
            handler = openapi.secured(BEARER)(handler)
        return handler

    return decorator
