"""`atende notebook`: JupyterLab in the repository's notebooks/, on the configured database."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service import cli
from service.settings import Settings
from tests.processes import free_port, stop_session

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_starts_jupyterlab_in_notebooks_on_the_configured_database(tmp_path: Path) -> None:
    port, token = free_port(), "notebook-test-token"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DATA_DIR": "data",  # relative to where the command runs: the kernels get it absolute
        "JUPYTER_TOKEN": token,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "service.cli", "notebook", "--port", str(port)]
    # Run from elsewhere: notebooks/ is found beside the installed `analytics` package.
    with subprocess.Popen(
        [*command, "--no-browser"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Jupyter and its kernels: one group to end
    ) as process:
        try:
            assert process.stdout is not None
            seen: list[str] = []
            # Jupyter says where it listens once it does (the read blocks; pytest-timeout
            # bounds it, and an early exit ends it with an empty line).
            while not any(f":{port}/lab" in line for line in seen):
                line = process.stdout.readline().decode(errors="replace")
                assert line, "jupyter exited:\n" + "".join(seen)
                seen.append(line)
            banner = seen[0]
            assert f"JupyterLab in {NOTEBOOKS}" in banner
            assert str(tmp_path / "data" / "atende.sqlite3") in banner
            base = f"http://127.0.0.1:{port}"
            status = httpx.get(f"{base}/api/status", params={"token": token}, timeout=10)
            assert status.status_code == 200, status.text
            root = httpx.get(f"{base}/api/contents", params={"token": token}, timeout=10)
            assert root.status_code == 200, root.text
            environ = Path(f"/proc/{process.pid}/environ")  # Jupyter took over the process
            if environ.exists():  # Linux: what its kernels inherit
                variables = dict(
                    item.split("=", 1) for item in environ.read_text().split("\0") if "=" in item
                )
                assert variables["DATA_DIR"] == str(tmp_path / "data")
                assert "DATABASE_URL" not in variables
            names = {item["name"] for item in root.json()["content"]}
            assert names == {p.name for p in NOTEBOOKS.iterdir() if not p.name.startswith(".")}
        finally:
            stop_session(process, timeout=15)


def test_the_kernels_get_the_database_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the Postgres run's
    embedded = cli.notebook_environment(
        Settings(data_dir=Path("data")), {"DATABASE_URL": "", "PATH": "/bin"}
    )
    assert embedded["DATA_DIR"] == str(tmp_path / "data")
    assert "DATABASE_URL" not in embedded
    assert embedded["PATH"] == "/bin"
    url = "postgresql://u:p@db:5432/atende"
    on_postgres = cli.notebook_environment(Settings(database_url=url), {})
    assert on_postgres["DATABASE_URL"] == "postgres://u:p@db:5432/atende"


def test_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jupyterlab" else find_spec(name, *a),
    )
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[notebooks\]'"):
        cli._notebook(Settings(), 8888, no_browser=True)
    monkeypatch.undo()
    monkeypatch.setattr(cli, "notebooks_dir", lambda: None)
    with pytest.raises(SystemExit, match="notebooks/ not found"):
        cli._notebook(Settings(), 8888, no_browser=True)
