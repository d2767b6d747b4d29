"""The database: Tortoise configuration, start-up and migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate

from service.settings import Settings

__all__ = ["MODEL_MODULES", "close_db", "init_db", "migrate_db", "tortoise_config"]

MODEL_MODULES = [
    "service.companies.models",
    "service.users.models",
    "service.auth.models",
    "service.queues.models",
    "service.connections.models",
    "service.tags.models",
    "service.quick_replies.models",
    "service.contacts.models",
    "service.tickets.models",
    "service.audit.models",
    "service.audiences.models",
    "service.campaigns.models",
]


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """Tortoise's configuration: one app, `models`, migrated from migrations/."""
    url = settings.effective_database_url
    if url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        connection: dict[str, Any] | str = {
            "engine": "tortoise.backends.sqlite",
            # WAL lets readers go on while one writer commits; the default journal blocks them.
            "credentials": {
                "file_path": url.removeprefix("sqlite://"),
                "journal_mode": "WAL",
                "journal_size_limit": 16384,
                "foreign_keys": "ON",
            },
        }
    else:
        connection = expand_db_url(url)
        if connection["engine"] == "tortoise.backends.asyncpg":
            connection["credentials"]["reset"] = _keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def _keep_session(connection: Any) -> None:
    """What a pooled Postgres connection needs when it goes back to its pool: nothing. asyncpg
    rolls back a transaction left open either way; its default reset adds a round trip per
    query outside a transaction (RESET ALL, UNLISTEN, advisory unlocks) for session state
    this app never sets, which costs the hot path a sixth of its CPU."""


async def init_db(settings: Settings) -> None:
    """Open the connection pool for these settings."""
    # The global fallback makes the connections visible to every task (request handlers run
    # in tasks that do not inherit the start-up listener's context).
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    # Connect now rather than on first use: a request cancelled by its client while the
    # SQLite connection is being opened would leave it half-open and every later query hanging.
    await connections.get("default").execute_query("SELECT 1")


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate_db(settings: Settings) -> None:
    """Apply every migration not yet applied."""
    await migrate(config=tortoise_config(settings))
    await Tortoise.close_connections()


def __getattr__(name: str) -> Any:
    # `tortoise -c service.db.TORTOISE_ORM makemigrations` (developers only); computed on
    # access so that importing this module reads no environment and creates no directory.
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings())
    raise AttributeError(name)
