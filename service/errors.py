"""One error type, one JSON shape: `{"error": {"code", "message", "fields"?, "request_id"?}}`."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sanic import Request
from sanic.exceptions import RequestCancelled, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, json

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidFields",
    "JsonErrorHandler",
    "NotFound",
    "PayloadTooLarge",
    "PlanLimitReached",
    "RateLimited",
    "Unauthorized",
    "fields_from_validation_error",
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
        if isinstance(exception, SanicException) and exception.status_code < 500:
            status = exception.status_code
            headers = dict(getattr(exception, "headers", None) or {})
            return error_response(
                status,
                _SANIC_CODES.get(status, "error"),
                str(exception) or "Request failed",
                request_id=request_id,
                headers=headers,
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
