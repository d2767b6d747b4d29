"""Edge helpers shared by every blueprint: parse and validate input, page lists, answer JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from tortoise.models import Model
from tortoise.queryset import QuerySet

from service.errors import BadRequest, InvalidFields, fields_from_validation_error
from service.tenancy import id_in_range

__all__ = [
    "DbId",
    "Page",
    "PageQuery",
    "ResponseModel",
    "StrictModel",
    "paginate",
    "parse_body",
    "parse_query",
    "respond",
    "unstorable_text",
]

T = TypeVar("T", bound=BaseModel)

# An id as the API accepts it: within the range of the integer key columns.
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
M = TypeVar("M", bound=Model)


def unstorable_text(value: Any) -> bool:
    """True when a string (nested anywhere in `value`) holds what a database cannot store."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a "\ud800" JSON escape
            return True
        return False
    if isinstance(value, dict):
        return any(unstorable_text(k) or unstorable_text(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(unstorable_text(item) for item in value)
    return False


class StrictModel(BaseModel):
    """Request bodies and queries: unknown fields are an error, not silently dropped, and text
    the database cannot store (NUL, lone surrogates) is a 422 rather than a failed write."""

    # A docstring under a field is its description in /docs (for API users; comments stay
    # for developers).
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, use_attribute_docstrings=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if unstorable_text(value):
            raise ValueError("must not contain NUL or unpaired surrogate characters")
        return value


class ResponseModel(BaseModel):
    """Response bodies: as in StrictModel, a docstring under a field is its description."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class PageQuery(StrictModel):
    limit: int = Field(default=50, ge=1, le=200)
    """How many items a page holds at most."""
    cursor: str | None = Field(default=None, max_length=200)
    """The `next_cursor` of the previous page; left out for the first page."""


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


def parse_body(request: Request, model: type[T]) -> T:
    """The JSON body validated as `model`: 400 when it is not JSON, 422 naming bad fields."""
    if not request.body:
        payload: Any = {}
    else:
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("The body is not valid JSON") from exc
        except RecursionError as exc:
            raise BadRequest("The body nests too deeply") from exc
    if not isinstance(payload, dict):
        raise InvalidFields({"body": "must be a JSON object"})
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidFields(fields_from_validation_error(exc)) from exc


def parse_query(request: Request, model: type[T]) -> T:
    """Query-string arguments validated as `model`; a repeated key becomes a list."""
    args: dict[str, Any] = {}
    for key, values in request.args.items():
        annotation = model.model_fields.get(key)
        wants_list = annotation is not None and "list" in str(annotation.annotation)
        args[key] = values if wants_list else values[-1]
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise InvalidFields(fields_from_validation_error(exc)) from exc


def respond(data: BaseModel | dict[str, Any] | list[Any], status: int = 200) -> HTTPResponse:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return json_response(data, status=status)


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, model: type[Model]) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        last_id = int(value)
        if kind != "id" or not id_in_range(model, last_id):
            raise ValueError(kind)
        return last_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidFields({"cursor": "is not a cursor this API gave out"}) from exc


async def paginate(
    query: QuerySet[M],
    page: PageQuery,
    serialize: Callable[[Sequence[M]], Awaitable[list[Any]]],
    *,
    newest_first: bool = False,
) -> Page:
    """One page of `query` by id, with the cursor of the next page (None on the last)."""
    if page.cursor is not None:
        last_id = _decode_cursor(page.cursor, query.model)
        query = query.filter(id__lt=last_id) if newest_first else query.filter(id__gt=last_id)
    rows = await query.order_by("-id" if newest_first else "id").limit(page.limit + 1)
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = _encode_cursor(rows[-1].pk) if has_more and rows else None
    return Page(items=await serialize(rows), next_cursor=next_cursor)
