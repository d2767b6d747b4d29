"""The three notebooks run top to bottom (nbclient, a real kernel) on a generated history:
`atende demo --history` writes it into a database of their own (a new DATA_DIR, or a new
database on the test session's Postgres server), so `analytics.connect()` in their first
cell finds the one company there, as an analyst's would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

import analytics
from service.settings import Settings

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
HISTORY_DAYS = 14
WIN_BACK = "Win back (notebook)"
_ATENDE = [sys.executable, "-c", "from service.cli import main; main()"]


@dataclass(frozen=True)
class Seeded:
    env: dict[str, str]  # the kernel's environment
    database_url: str


def _admin_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))


async def _postgres(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def seeded(test_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A database holding the demo company and `HISTORY_DAYS` days of generated history."""
    data_dir = tmp_path_factory.mktemp("notebooks")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    # The kernel's matplotlib uses its inline backend (Agg underneath): no display needed.
    env.pop("MPLBACKEND", None)
    env |= {"DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    database = None
    if test_settings.database_url:
        database = f"atende_nb_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(test_settings.database_url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
        asyncio.run(_postgres(_admin_url(env["DATABASE_URL"]), f'CREATE DATABASE "{database}"'))
    try:
        seeding = subprocess.run(
            [*_ATENDE, "demo", "--history", str(HISTORY_DAYS)],
            env=env,
            cwd=data_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert seeding.returncode == 0, seeding.stderr
        assert "History:" in seeding.stdout, seeding.stdout
        settings = Settings(database_url=env.get("DATABASE_URL"), data_dir=data_dir)
        yield Seeded(env=env, database_url=settings.effective_database_url)
    finally:
        if database is not None:
            asyncio.run(
                _postgres(
                    _admin_url(env["DATABASE_URL"]),
                    f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                )
            )


def _execute(name: str, seeded: Seeded) -> Any:
    """Run the notebook in a fresh kernel (in notebooks/, as `atende notebook` does); a cell
    that raises fails the test with its traceback."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=seeded.env)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, cell.source
            assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
    return notebook


def _texts(notebook: Any) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _images(notebook: Any) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("name", ["ops_dashboard", "agent_performance", "campaign_segmentation"])
def test_stored_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].source.splitlines()[-2:] == [
        "src = analytics.connect()  # DATABASE_URL, else the SQLite file under DATA_DIR",
        "src",
    ]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    # No logic of their own: no functions or classes, only calls into analytics and plots.
    assert not [cell for cell in code if "def " in cell.source or "class " in cell.source]
    assert notebook.cells[0].cell_type == "markdown"


def test_ops_dashboard(seeded: Seeded) -> None:
    notebook = _execute("ops_dashboard", seeded)
    text = _texts(notebook)
    assert "company 1 'Demo'" in text
    for figure in ("handoff_rate", "containment_rate", "frt median", "csat average"):
        assert figure in text
    assert _images(notebook) == 4  # heatmap, backlog, distributions, ratings


def test_agent_performance(seeded: Seeded) -> None:
    notebook = _execute("agent_performance", seeded)
    text = _texts(notebook)
    assert "Ana Souza" in text  # one of the generated agents
    assert "Financeiro" in text
    assert "no queue" in text
    assert "business hours" in text
    assert _images(notebook) == 2


def test_campaign_segmentation_pushes_a_list(seeded: Seeded) -> None:
    notebook = _execute("campaign_segmentation", seeded)
    text = _texts(notebook)
    assert "answered_rate" in text
    assert "PushedSegment(" in text
    assert "created=True" in text
    assert _images(notebook) == 2
    # The pushed list is in the database, holding what the notebook showed.
    with analytics.connect(seeded.database_url, env_file=None) as src:
        lists = src.query(
            "SELECT l.id, COUNT(m.id) AS members FROM contact_lists l"
            " LEFT JOIN contact_list_members m ON m.contact_list_id = l.id"
            " WHERE l.company_id = :company AND l.name = :name GROUP BY l.id",
            name=WIN_BACK,
        )
    assert len(lists) == 1
    assert f"list_id={int(lists['id'].iloc[0])}," in text
    assert f"added={int(lists['members'].iloc[0])}," in text
    assert int(lists["members"].iloc[0]) > 0
