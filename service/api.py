"""The one place that registers every blueprint of the API."""

from __future__ import annotations

from typing import Any

from sanic import Sanic

from service.audit.api import bp as audit_bp
from service.auth.api import bp as auth_bp
from service.auth.api import tokens_bp

__all__ = ["register_blueprints"]


def register_blueprints(app: Sanic[Any, Any]) -> None:
    for blueprint in (auth_bp, tokens_bp, audit_bp):
        app.blueprint(blueprint)
