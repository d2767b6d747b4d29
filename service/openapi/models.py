"""Pydantic models as the document's components, in the JSON Schema that OpenAPI 3.0 accepts.

sanic-ext walks type hints itself and recurses forever on recursive models (the queue
options tree), and pydantic emits JSON Schema 2020-12; so models are registered here as
components, converted, and routes refer to them by name."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.types import Schema

__all__ = ["REF_TEMPLATE", "RawObject", "json_content", "model_ref", "register_models", "to_oas30"]

REF_TEMPLATE = "#/components/schemas/{model}"
_NULL = {"type": "null"}
_registered: set[str] = set()


class RawObject(Schema):
    """An OpenAPI object given as JSON (a schema, a response), which sanic-ext would otherwise
    introspect as a Python object or filter down to the fields its classes declare."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._raw = raw

    def serialize(self) -> dict[str, Any]:
        return self._raw


def to_oas30(node: Any) -> Any:
    """Downgrade the parts of JSON Schema 2020-12 that OpenAPI 3.0 rejects."""
    if isinstance(node, list):
        return [to_oas30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: to_oas30(value) for key, value in node.items()}
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
        schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        for name, sub in schema.pop("$defs", {}).items():
            spec.add_component("schemas", name, to_oas30(sub))
            _registered.add(name)
        spec.add_component("schemas", model.__name__, to_oas30(schema))
        _registered.add(model.__name__)


def model_ref(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to the model's component (registered by the way)."""
    register_models(model)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def json_content(model: type[BaseModel], *, many: bool = False) -> dict[str, Any]:
    """The JSON content of a body or an answer: the model, or a page of them (`many`)."""
    schema = model_ref(model)
    if many:
        schema = {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": schema, "description": "This page's items"},
                "next_cursor": {
                    "type": "string",
                    "nullable": True,
                    "description": "Pass it as `cursor` for the next page; null on the last",
                },
            },
        }
    return {"application/json": schema}
