"""Logging set-up: readable text on a laptop, one JSON object a line in production."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from service.settings import LogFormat, Settings

__all__ = ["JsonFormatter", "configure_logging"]

# Context that callers attach with `extra=` and that belongs in every JSON line.
_CONTEXT_KEYS = ("request_id", "company_id", "ticket_id", "connection_id", "user_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format is LogFormat.json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "tortoise"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Tortoise logs every SQL statement at DEBUG (message bodies included) and chats at INFO.
    logging.getLogger("tortoise").setLevel(max(logging.WARNING, root.level))
