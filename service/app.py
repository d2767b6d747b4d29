"""create_app(settings): the Sanic application with its database, broker and routes."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from redis.asyncio import Redis
from sanic import Request, Sanic
from sanic.response import HTTPResponse, file, json, raw
from sanic_ext import Extend, openapi

from service.api import register_blueprints
from service.auth.ratelimit import FallbackCounter, MemoryCounter, RedisCounter
from service.campaigns.runner import CampaignRunner
from service.channels import ChannelHub, fake_whatsapp_for_tests
from service.clock import Clock, utcnow
from service.db import close_db, init_db
from service.errors import JsonErrorHandler
from service.health import register_health
from service.leases import Leases, LocalLeases, RedisLeases, installation_mark
from service.loops import LoopHealth
from service.metrics import CONTENT_TYPE_LATEST, Metrics
from service.openapi import (
    API_DESCRIPTION,
    API_TITLE,
    BEARER,
    api_version,
    complete_document,
)
from service.realtime.broker import InProcessBroker, RedisBroker
from service.realtime.hub import RealtimeHub
from service.realtime.presence import MemoryPresence, RedisPresence
from service.scheduled.runner import ScheduledRunner
from service.scheduler import Scheduler
from service.server import configure_limits
from service.settings import Settings
from service.tickets.audience import current_ticket_audience
from service.watchdog import worker_report

__all__ = ["create_app"]

WEB_DIR = Path(__file__).parent / "web"

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: Settings, *, clock: Clock = utcnow, name: str = "atende"
) -> Sanic[Any, Any]:
    """The application for these settings; the database opens when the server starts."""
    if settings.sentry_dsn:
        import sentry_sdk

        # No personal data option: sentry-sdk 3 sends none by default and dropped the flag.
        sentry_sdk.init(dsn=settings.sentry_dsn)

    app: Sanic[Any, Any] = Sanic(name, error_handler=JsonErrorHandler(), configure_logging=False)
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    configure_limits(app, settings)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.ACCESS_LOG = False
    # /docs is Swagger UI from the swagger-ui-bundle package: no CDN, works offline.
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_UI_REDOC = False
    app.config.OAS_PATH_TO_SWAGGER_HTML = str(WEB_DIR / "docs.html")
    app.config.API_TITLE = API_TITLE
    app.config.API_VERSION = api_version()
    app.config.API_DESCRIPTION = API_DESCRIPTION
    # Our handlers validate input themselves (service.http) so that every error has one shape.
    app.config.CORS = False
    Extend(app)
    app.ext.openapi.add_security_scheme(BEARER, "http", scheme="bearer", bearer_format="JWT")
    complete_document(app)  # the routes' error answers, parameters and operation ids

    app.ctx.settings = settings
    app.ctx.clock = clock
    app.ctx.metrics = Metrics()
    app.ctx.loops = LoopHealth(app.ctx.metrics)
    app.ctx.signing_key = settings.signing_key()
    # TEST ONLY (tests/test_workers.py): WhatsApp connections run on a sandbox channel, and
    # /__test__/channels tells which ones a worker runs.
    fake_whatsapp = settings.atende_fake_whatsapp

    @app.before_server_start
    async def open_resources(app: Sanic[Any, Any]) -> None:
        await init_db(settings)
        if settings.redis_url:
            # A connect timeout so that a Redis that is down answers fast; no read timeout,
            # which would end the realtime subscription's idle wait.
            app.ctx.redis = Redis.from_url(
                settings.redis_url, decode_responses=True, socket_connect_timeout=2
            )
            app.ctx.broker = RedisBroker(app.ctx.redis)
            app.ctx.login_counter = FallbackCounter(RedisCounter(app.ctx.redis))
            app.ctx.presence = RedisPresence(app.ctx.redis)
        else:
            app.ctx.redis = None
            app.ctx.broker = InProcessBroker()
            app.ctx.login_counter = MemoryCounter()
            app.ctx.presence = MemoryPresence()
        app.ctx.realtime = RealtimeHub(
            broker=app.ctx.broker, resolve=current_ticket_audience, health=app.ctx.loops
        )
        leases: Leases
        if app.ctx.redis is not None:
            leases = RedisLeases(
                app.ctx.redis,
                ttl_seconds=settings.lease_seconds,
                namespace=installation_mark(settings.effective_database_url),
            )
        else:
            leases = LocalLeases(settings.data_dir / "leases", ttl_seconds=settings.lease_seconds)
        app.ctx.channels = ChannelHub(
            settings=settings,
            broker=app.ctx.broker,
            clock=clock,
            leases=leases,
            health=app.ctx.loops,
        )
        fake_whatsapp_for_tests(app.ctx.channels, settings)

    @app.after_server_start
    async def start_channels(app: Sanic[Any, Any]) -> None:
        app.ctx.realtime_task = asyncio.get_running_loop().create_task(app.ctx.realtime.run())
        await app.ctx.channels.start()
        app.ctx.scheduler = Scheduler(clock=clock, broker=app.ctx.broker)
        app.ctx.campaigns = CampaignRunner(
            channels=app.ctx.channels, broker=app.ctx.broker, clock=clock
        )
        app.ctx.scheduled_runner = ScheduledRunner(clock=clock, channels=app.ctx.channels)
        if settings.timers_interval_seconds:
            every, interval = app.ctx.loops.every, settings.timers_interval_seconds
            app.add_task(every("timers", app.ctx.scheduler.run_due, interval), name="timers")
            app.add_task(
                every("campaigns", app.ctx.campaigns.run_pass, app.ctx.campaigns.interval),
                name="campaigns",
            )
            app.add_task(
                every("scheduled-messages", app.ctx.scheduled_runner.tick, interval),
                name="scheduled-messages",
            )
            app.add_task(
                every("outbound", app.ctx.channels.recovery.run_pass, min(interval, 15)),
                name="outbound",
            )

    @app.before_server_stop
    async def stop_channels(app: Sanic[Any, Any]) -> None:
        await app.cancel_task("timers", raise_exception=False)
        await app.cancel_task("campaigns", raise_exception=False)
        await app.cancel_task("scheduled-messages", raise_exception=False)
        await app.cancel_task("outbound", raise_exception=False)
        app.ctx.realtime_task.cancel()
        await app.ctx.channels.stop()

    @app.after_server_stop
    async def close_resources(app: Sanic[Any, Any]) -> None:
        await app.ctx.broker.close()
        await close_db()

    @app.on_request
    async def start_request(request: Request) -> None:
        request.ctx.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.ctx.started = time.perf_counter()

    @app.on_response  # type: ignore[untyped-decorator]
    async def finish_response(request: Request, response: HTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None)
        if request_id:
            response.headers["X-Request-ID"] = request_id
        for header, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        route = request.route.path if request.route else "unmatched"
        metrics: Metrics = app.ctx.metrics
        metrics.requests.labels(request.method, route, str(response.status)).inc()
        started = getattr(request.ctx, "started", None)
        if started is not None:
            metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        if response.status >= 500:
            metrics.errors.labels("http").inc()

    register_health(app)

    @app.get("/metrics")
    # Not in the API's document: Prometheus scrapes it in its own text format, defined by
    # Prometheus; operators point a scraper at it, and no client generated from the document
    # would call it.
    @openapi.definition(exclude=True)
    async def metrics(request: Request) -> HTTPResponse:
        """Prometheus exposition format."""
        metrics: Metrics = app.ctx.metrics
        workers = worker_report(app)
        if workers is not None:
            metrics.workers_running.set(workers["running"])
            metrics.worker_restarts.set(workers["restarts"])
        return raw(metrics.render(), content_type=CONTENT_TYPE_LATEST)

    if fake_whatsapp:

        @app.get("/__test__/channels")
        @openapi.definition(exclude=True)  # a test's, not the API's
        async def test_channels(request: Request) -> HTTPResponse:
            """Which WhatsApp connections this worker runs (ATENDE_FAKE_WHATSAPP only)."""
            hub: ChannelHub = app.ctx.channels
            return json({"worker": hub.worker_id, "owned": hub.owned})

    app.static("/docs/assets", swagger_ui_bundle.swagger_ui_path, name="swagger_assets")
    app.static("/web", WEB_DIR, name="web")
    _serve_pages(app)
    register_blueprints(app)
    return app


# The web pages ------------------------------------------------------------------------------
# The inbox (/), the admin (/admin) and the phone simulator are static pages of ES modules
# under web/app. Their policy allows this origin's files only: no inline script, no style
# attributes, no plugins, no framing. (`connect-src 'self'` covers the same-origin websocket
# in current browsers.)
# /docs (Swagger UI) is not one of them and keeps its own needs.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_PAGES = {"/": "index.html", "/simulator": "simulator.html", "/admin": "admin.html"}


def _serve_pages(app: Sanic[Any, Any]) -> None:
    """Serve the inbox, the admin and the simulator with their Content-Security-Policy."""
    for path, name in _PAGES.items():

        @openapi.definition(exclude=True)  # pages for people, not operations of the API
        async def page(request: Request, name: str = name) -> HTTPResponse:
            return await file(
                WEB_DIR / "app" / name,
                mime_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": PAGE_CSP},
            )

        app.add_route(page, path, methods=["GET"], name=f"page_{name.removesuffix('.html')}")
