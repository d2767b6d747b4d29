"""One error type, one JSON shape: `{"error": {"code", "message", "fields"?, "request_id"?}}`."""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

import asyncpg
from pydantic import BaseModel, Field, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Request
from sanic.exceptions import RequestCancelled, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, json

__all__ = [
    "RETRY_AFTER_SECONDS",
    "ApiError",
    "BadRequest",
    "Conflict",
    "ErrorBody",
    "ErrorOut",
    "Forbidden",
    "InvalidFields",
    "JsonErrorHandler",
    "NotFound",
    "PayloadTooLarge",
    "PlanLimitReached",
    "RateLimited",
    "Unauthorized",
    "fields_from_validation_error",
    "is_outage",
]

log = logging.getLogger("atende.errors")


class ApiError(Exception):
    """An error a client caused (or may retry); rendered as the contract's error JSON."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class PlanLimitReached(Forbidden):
    code = "plan_limit"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class InvalidFields(ApiError):
    status, code = 422, "invalid"

    def __init__(self, fields: dict[str, str], message: str = "Some fields are invalid") -> None:
        super().__init__(message, fields=fields)


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def fields_from_validation_error(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as `{"dotted.path": "what is wrong"}`."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(path, item["msg"])
    return fields


# Sanic's own exceptions (routing, body size, method) mapped to our codes.
_SANIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    429: "rate_limited",
    503: "unavailable",
}


# How long a client should wait before retrying after an outage: a restart of Postgres or
# Redis takes seconds, and a shorter hint would only multiply the retries it has to refuse.
RETRY_AFTER_SECONDS = 5

_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    asyncpg.PostgresConnectionError,  # includes CannotConnectNowError (server starting up)
    asyncpg.OperatorInterventionError,  # admin shutdown, crash shutdown
    asyncpg.ConnectionDoesNotExistError,  # the server closed the connection mid-query
    ConnectionError,  # refused, reset; tortoise's DBConnectionError is one too
    TimeoutError,
)


def is_outage(exception: BaseException) -> bool:
    """Whether `exception` (or what caused it: Tortoise wraps the driver's errors) says that
    the database or the broker is unreachable, rather than that our code is wrong."""
    seen: set[int] = set()
    current: BaseException | None = exception
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_TYPES):
            return True
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True  # a pooled connection the restarted server no longer knows
        current = current.__cause__ or current.__context__
    return False


class _OutageLog:
    """One log line per outage burst, not one per refused request: a busy installation would
    otherwise write thousands of identical tracebacks while Postgres restarts."""

    def __init__(self, every_seconds: float = 10.0) -> None:
        self._every = every_seconds
        self._last = float("-inf")
        self._suppressed = 0

    def report(self, exception: BaseException) -> None:
        now = time.monotonic()
        if now - self._last < self._every:
            self._suppressed += 1
            return
        log.error(
            "service unavailable (%s: %s); %d more since the last report",
            type(exception).__name__,
            exception,
            self._suppressed,
        )
        self._last, self._suppressed = now, 0


_outage_log = _OutageLog()


class ErrorBody(BaseModel):
    """What went wrong."""

    code: str = Field(
        description="What kind of error, for programs to branch on: bad_request, unauthorized,"
        " forbidden, plan_limit, not_found, conflict, payload_too_large, invalid, rate_limited,"
        " unavailable, internal (and Sanic's method_not_allowed, request_timeout)",
        examples=["invalid"],
    )
    message: str = Field(
        description="The error in a sentence for the developer (English; not meant for end users)",
        examples=["Some fields are invalid"],
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="On a 422 (or another error a field caused): each field's dotted path"
        " (`body` for the whole body, `items.0.name` inside a list) and what is wrong with it;"
        " absent otherwise",
        examples=[{"email": "value is not a valid email address"}],
    )
    request_id: str = Field(
        default_factory=str,
        description="The request's id, also sent as the X-Request-ID header (the client's own"
        " when it sent one): quote it when reporting a problem; absent when unknown",
    )


class ErrorOut(BaseModel):
    """Every error answer (4xx and 5xx) of the API has this shape."""

    error: ErrorBody = Field(description="What went wrong")


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, str] | None = None,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if request_id:
        body["request_id"] = request_id
    return json({"error": body}, status=status, headers=headers)


class JsonErrorHandler(ErrorHandler):
    """Renders every exception as the contract's error JSON; a 500 is logged with its request id."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        request_id = getattr(getattr(request, "ctx", None), "request_id", None)
        if isinstance(exception, ApiError):
            return error_response(
                exception.status,
                exception.code,
                exception.message,
                fields=exception.fields,
                request_id=request_id,
                headers=exception.headers,
            )
        if isinstance(exception, RequestCancelled):
            # The client went away: nobody reads this answer, and it is not our bug.
            log.debug("request %s cancelled by its client", request_id)
            return error_response(499, "cancelled", "The client closed the request")
        if isinstance(exception, SanicException) and exception.status_code != 500:
            # Sanic's own errors keep their status, its 503 "Response Timeout" included.
            status = exception.status_code
            headers = dict(getattr(exception, "headers", None) or {})
            if status == 503:
                headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
            return error_response(
                status,
                _SANIC_CODES.get(status, "error"),
                str(exception) or "Request failed",
                request_id=request_id,
                headers=headers,
            )
        if is_outage(exception):
            _outage_log.report(exception)
            return error_response(
                503,
                "unavailable",
                "The service is briefly unavailable; please try again in a few seconds",
                request_id=request_id,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        log.error(
            "unhandled error on %s %s (request_id=%s)",
            request.method,
            request.path,
            request_id,
            exc_info=exception,
        )
        return error_response(
            500, "internal", "Something went wrong on our side", request_id=request_id
        )
