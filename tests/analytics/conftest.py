"""The seeded history of tests/analytics/history.py in a company of its own, and a `Source`
reading it (on the test database: Postgres or the embedded SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import pytest_asyncio

import analytics
from analytics.source import Source
from service.settings import Settings
from tests.analytics.history import SeededHistory, seed_history
from tests.factories import make_tenant


@pytest_asyncio.fixture(scope="module")
async def seeded_history(client: httpx.AsyncClient) -> SeededHistory:
    """A fresh company holding the hand-built history (one per test module)."""
    return await seed_history(await make_tenant(client))


def open_source(settings: Settings, company: int | str | None) -> Source:
    """A `Source` on the test database. Never `run()` it in the test process: Tortoise is
    already initialised here, in the tests' own loop."""
    return analytics.connect(settings.effective_database_url, company, env_file=None)


@pytest.fixture(scope="module")
def history_source(seeded_history: SeededHistory, test_settings: Settings) -> Iterator[Source]:
    with open_source(test_settings, seeded_history.company_id) as source:
        yield source
