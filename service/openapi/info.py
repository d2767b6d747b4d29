"""What the document says of the API as a whole: its title, description, version and the
name of its bearer security scheme."""

from __future__ import annotations

from importlib import metadata

__all__ = ["API_DESCRIPTION", "API_TITLE", "BEARER", "api_version"]

BEARER = "bearerAuth"
API_TITLE = "Atende API"
API_DESCRIPTION = """\
Atende's HTTP API: WhatsApp customer service for companies, with a bot that triages the
conversations, tickets that agents accept, transfer and close, contacts and tags, queues,
WhatsApp connections, campaigns, scheduled messages and reports.

**Authentication.** `POST /api/auth/login` with an email and a password answers an access
token (valid 15 minutes) and a refresh token (`POST /api/auth/refresh` trades it for a new
pair). Send the access token as `Authorization: Bearer <token>`. An API token
(`POST /api/api-tokens`) is used the same way and acts as an admin of its company. Failed
logins are rate-limited (429 with Retry-After).

**Errors.** Every error answer has one shape, `{"error": {"code", "message", "fields"?,
"request_id"?}}` (the ErrorOut schema): `code` is stable for programs, `fields` names each
invalid field on a 422, and `request_id` (also the X-Request-ID header) identifies the
request in the server's logs. A 503 with Retry-After means the database or the broker is
briefly unreachable: retry after that many seconds.

**Pagination.** Lists take `limit` (1 to 200, 50 by default) and `cursor`, and answer
`{"items": [...], "next_cursor": ...}`: pass `next_cursor` back as `cursor` for the next
page; it is null on the last.

**Tenancy.** Every user and API token belongs to one company and sees only its data: another
company's objects answer 404, exactly as objects that do not exist.

**Live events.** `GET /ws?token=<access token>` is a websocket that pushes what changes
(tickets, messages, contacts, presence) to the company's users who may see it."""


def api_version() -> str:
    """The installed package's version (pyproject's `version`), the document's version."""
    try:
        return metadata.version("atende")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0.0.0+unknown"
