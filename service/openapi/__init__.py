"""The OpenAPI document at /docs: pydantic models as components, routes described from them.

What every route has in common is written once, when the server starts and the document's
paths are known (`complete_document`): the error answers a route can give, its path
parameters' descriptions and an operation id `<resource>.<action>`.

- `info`: the document's title, description, version and security scheme's name
- `models`: pydantic models as OpenAPI 3.0 components
- `routes`: `documented()`, what a route says of itself
- `errors`: the error answers derived from what a route is
- `operations`: success descriptions, path parameters' nouns, operation ids
- `document`: `complete_document(app)`, which finishes every operation
"""

from service.openapi.document import complete_document
from service.openapi.info import API_DESCRIPTION, API_TITLE, BEARER, api_version
from service.openapi.models import register_models
from service.openapi.routes import documented

__all__ = [
    "API_DESCRIPTION",
    "API_TITLE",
    "BEARER",
    "api_version",
    "complete_document",
    "documented",
    "register_models",
]
