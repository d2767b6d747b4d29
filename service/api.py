"""The one place that registers every blueprint of the API."""

from __future__ import annotations

from typing import Any

from sanic import Sanic

from service.audiences.api import lists_bp, segments_bp
from service.audit.api import bp as audit_bp
from service.auth.api import bp as auth_bp
from service.auth.api import tokens_bp
from service.campaigns.api import bp as campaigns_bp
from service.companies.api import bp as companies_bp
from service.companies.api import plans_bp, settings_bp
from service.connections.api import bp as connections_bp
from service.contacts.api import bp as contacts_bp
from service.queues.api import bp as queues_bp
from service.quick_replies.api import bp as quick_replies_bp
from service.realtime.api import bp as realtime_bp
from service.reports.api import bp as reports_bp
from service.sandbox.api import bp as sandbox_bp
from service.scheduled.api import bp as scheduled_bp
from service.tags.api import bp as tags_bp
from service.tickets.api import bp as tickets_bp
from service.tickets.api import messages_bp
from service.users.api import bp as users_bp

__all__ = ["register_blueprints"]


def register_blueprints(app: Sanic[Any, Any]) -> None:
    for blueprint in (
        auth_bp,
        tokens_bp,
        users_bp,
        companies_bp,
        plans_bp,
        settings_bp,
        queues_bp,
        connections_bp,
        contacts_bp,
        tags_bp,
        quick_replies_bp,
        tickets_bp,
        messages_bp,
        sandbox_bp,
        realtime_bp,
        audit_bp,
        reports_bp,
        lists_bp,
        segments_bp,
        scheduled_bp,
        campaigns_bp,
    ):
        app.blueprint(blueprint)
