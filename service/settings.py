"""The one typed settings object, read from the environment."""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LogFormat", "Settings"]


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Settings(BaseSettings):
    """Everything the service reads from its environment; tests build one directly."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, env_ignore_empty=True
    )

    database_url: str | None = Field(
        default=None, description="postgres://… for production; unset: SQLite under DATA_DIR"
    )
    redis_url: str | None = Field(
        default=None, description="redis://… for several workers; unset: in-process broker"
    )
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="signs tokens (32+ characters); unset: generated once and kept in DATA_DIR",
    )
    data_dir: Path = Field(default=Path("data"), description="SQLite file, secret key, sessions")
    media_dir: Path | None = Field(default=None, description="media files; unset: DATA_DIR/media")
    host: str = Field(default="0.0.0.0", description="address to listen on")
    port: int = Field(default=8080, ge=1, le=65535, description="HTTP port")
    workers: int = Field(default=1, ge=1, le=64, description="Sanic worker processes")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: LogFormat = Field(default=LogFormat.text, description="text or json")
    default_country: str = Field(
        default="BR", min_length=2, max_length=2, description="region for numbers without +"
    )
    sentry_dsn: str | None = Field(default=None, description="error reporting, optional")
    atende_admin_email: str | None = Field(default=None, description="first admin's email")
    atende_admin_password: str | None = Field(
        default=None, description="first admin's password; unset: random, printed once"
    )
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="request limit")
    timers_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="how often timers run (rating timeout, idle close); 0: never",
    )
    media_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="largest media downloaded or uploaded; larger inbound kept as a reference",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a dead worker's WhatsApp connections are taken over within this time",
    )
    login_max_failures: int = Field(
        default=10, ge=1, description="failed logins per email in 15 minutes"
    )
    login_max_failures_per_ip: int = Field(
        default=50, ge=1, description="failed logins per IP address in 15 minutes"
    )
    # Against slow and greedy clients (service.server): a whole request head must arrive
    # within request_timeout, however slowly its bytes trickle in.
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="seconds for a request's line and headers to arrive"
    )
    response_timeout_seconds: float = Field(
        default=60.0, gt=0, description="seconds a handler may take before a 503"
    )
    keep_alive_timeout_seconds: float = Field(
        default=15.0, gt=0, description="seconds an idle keep-alive connection stays open"
    )
    max_header_bytes: int = Field(
        default=8192, ge=1024, le=16384, description="request line and headers; more: 413"
    )
    max_connections_per_ip: int = Field(
        default=200, ge=1, description="open HTTP connections per client IP and worker"
    )
    max_websockets_per_ip: int = Field(
        default=50, ge=1, description="live websockets per client IP and worker"
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated IPs or networks of reverse proxies whose "
        "X-Forwarded-For is believed (e.g. Caddy's); unset: none",
    )

    # TEST ONLY, for the tests that start real processes (never set in production): WhatsApp
    # connections run on a sandbox channel, and sandbox channels journal their sends here.
    atende_fake_whatsapp: bool = Field(default=False, description="test only")
    atende_sandbox_journal: str | None = Field(default=None, description="test only")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @cached_property  # read on every login and websocket: parsed once
    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)

    @field_validator("default_country")
    @classmethod
    def _upper_country(cls, value: str) -> str:
        return value.upper()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def effective_database_url(self) -> str:
        """The database to use: DATABASE_URL, or the embedded SQLite file."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgres://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite://{(self.data_dir / 'atende.sqlite3').resolve()}"

    @property
    def embedded(self) -> bool:
        """True when running on the embedded defaults (SQLite, in-process broker)."""
        return not self.database_url and not self.redis_url

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def whatsapp_store(self) -> str:
        """Where neonize keeps WhatsApp sessions: our Postgres, or a SQLite file in DATA_DIR."""
        if not self.database_url:
            return str((self.data_dir / "whatsapp.sqlite3").resolve())
        url = self.effective_database_url
        # Go's lib/pq defaults to sslmode=require, which a server without TLS refuses.
        if "sslmode=" not in url:
            url += ("&" if "?" in url else "?") + "sslmode=prefer"
        return url

    def signing_key(self) -> str:
        """SECRET_KEY, or the one generated on first use and kept in DATA_DIR."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL so two workers starting together agree on one key.
        try:
            with path.open("x") as handle:
                handle.write(key)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return key
