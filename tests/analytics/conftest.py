"""The seeded history of tests/helpers/seeded_history.py in a company of its own, and a `Source`
reading it (on the test database: Postgres or the embedded SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import pytest_asyncio

from analytics.source import Source
from service.settings import Settings
from tests.factories import make_tenant
from tests.helpers.seeded_history import SeededHistory, open_source, seed_history


@pytest_asyncio.fixture(scope="module")
async def seeded_history(client: httpx.AsyncClient) -> SeededHistory:
    """A fresh company holding the hand-built history (one per test module)."""
    return await seed_history(await make_tenant(client))


@pytest.fixture(scope="module")
def history_source(seeded_history: SeededHistory, test_settings: Settings) -> Iterator[Source]:
    with open_source(test_settings, seeded_history.company_id) as source:
        yield source
