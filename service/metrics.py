"""Prometheus figures: requests and latencies by route, messages in and out, errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """One registry per app, so that several apps in one process (tests) don't collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "atende_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "atende_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.messages = Counter(
            "atende_messages",
            "WhatsApp messages by direction (in, out)",
            ["direction"],
            registry=self.registry,
        )
        self.errors = Counter(
            "atende_errors", "Unhandled errors by kind", ["kind"], registry=self.registry
        )
        # Read from Sanic's shared worker state when scraped (service.watchdog).
        self.workers_running = Gauge(
            "atende_workers_running", "Server workers running", registry=self.registry
        )
        self.worker_restarts = Gauge(
            "atende_worker_restarts",
            "Server workers replaced since the server started (one died each time)",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
