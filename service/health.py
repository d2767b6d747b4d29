"""/health: liveness and readiness, as load balancers and `atende serve`'s watchdog ask."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from service.errors import RETRY_AFTER_SECONDS
from service.openapi import documented
from service.watchdog import worker_report

__all__ = ["HealthOut", "WorkersOut", "register_health"]


def _absent_when_none(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # a null default would contradict the (non-null) type


class WorkersOut(BaseModel):
    """The server's workers, with `--workers N`."""

    running: int = Field(description="The workers started and serving")
    of: int = Field(description="The workers there should be")
    restarts: int = Field(description="How many times a dead worker was replaced")


class HealthOut(BaseModel):
    """What /health answers, with a 200 or a 503."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "degraded"] = Field(
        description="degraded: something below is down (a 503 if it is the database or broker)"
    )
    db: Literal["ok", "down"] = Field(description="Whether the database answers")
    broker: Literal["redis", "in-process", "down"] = Field(
        description="The realtime broker in use, or down if Redis does not answer"
    )
    # Absent rather than null when there is nothing to say: the schema shows no null.
    workers: WorkersOut | SkipJsonSchema[None] = Field(
        default=None,
        description="With `--workers N`: a dead one is replaced while running < of",
        json_schema_extra=_absent_when_none,
    )
    loops_down: dict[str, str] | SkipJsonSchema[None] = Field(
        default=None,
        description="The background loops whose last pass failed, with its error",
        json_schema_extra=_absent_when_none,
    )


def register_health(app: Sanic[Any, Any]) -> None:
    """Add GET /health to `app`."""
    settings = app.ctx.settings

    @app.get("/health")
    @documented(
        response=HealthOut,
        secured=False,
        # Its 503 is the same report (saying what is down), not the ErrorOut of other routes.
        answers={
            503: (
                HealthOut,
                "The database or the broker does not answer: retry after the"
                " seconds in Retry-After",
            )
        },
    )
    async def health(request: Request) -> HTTPResponse:
        """Liveness and readiness: the database and the broker answer (else a 503).

        With `--workers N`, the workers too: a dead one is being replaced while `running` <
        `of` (the others serve: not a 503)."""
        db_ok = await _database_ok()
        broker_ok = await app.ctx.broker.ping()
        status = 200 if db_ok and broker_ok else 503
        body: dict[str, Any] = {
            "status": "ok" if status == 200 else "degraded",
            "db": "ok" if db_ok else "down",
            "broker": ("redis" if settings.redis_url else "in-process") if broker_ok else "down",
        }
        workers = worker_report(app)
        if workers is not None:
            body["workers"] = workers
            if workers["running"] < workers["of"]:
                body["status"] = "degraded"  # the others serve: not a 503
        loops_down = app.ctx.loops.down()
        if loops_down:
            body["loops_down"] = loops_down
            body["status"] = "degraded"  # requests are answered: not a 503
        return json(
            body,
            status=status,
            headers={} if status == 200 else {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


async def _database_ok() -> bool:
    from tortoise import connections

    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
