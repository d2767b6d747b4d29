"""`atende backup` then `atende restore` into a fresh installation finds every ticket,
message and media file again; a restore never silently overwrites data, and says why."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from service.settings import Settings
from service.tickets.models import Message, Ticket
from tests.factories import Tenant, unique
from tests.processes import settings_env

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n" + b"backup test picture"


def _atende(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def _conversation_with_a_picture(client: httpx.AsyncClient, tenant: Tenant) -> int:
    created = await client.post(
        "/api/connections",
        json={"name": unique("sandbox"), "channel": "sandbox"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    connection_id = int(created.json()["id"])
    for text in ("oi", "preciso de ajuda"):
        written = await client.post(
            f"/api/sandbox/{connection_id}/inbound",
            json={"from": "+5511988887777", "name": "Maria", "text": text},
            headers=tenant.headers,
        )
        assert written.status_code == 200, written.text
    ticket = await Ticket.filter(company_id=tenant.company.id).order_by("-id").first()
    assert ticket is not None
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    sent = await client.post(
        f"/api/tickets/{ticket.id}/media",
        files={"file": ("foto.png", PNG, "image/png")},
        headers=tenant.headers,
    )
    assert sent.status_code == 201, sent.text
    return ticket.id


async def _restored_rows(settings: Settings, company_id: int) -> tuple[set[Any], set[Any]]:
    """(ticket ids, (message id, body, media path)) of the company in the restored database."""
    tickets_sql = "SELECT id FROM tickets WHERE company_id = {}"
    messages_sql = "SELECT id, body, media_path FROM messages WHERE company_id = {}"
    if settings.database_url:
        connection = await asyncpg.connect(settings.database_url)
        try:
            tickets = await connection.fetch(tickets_sql.format("$1"), company_id)
            messages = await connection.fetch(messages_sql.format("$1"), company_id)
        finally:
            await connection.close()
        return {r[0] for r in tickets}, {tuple(r) for r in messages}
    with closing(sqlite3.connect(settings.data_dir / "atende.sqlite3")) as db:
        tickets = db.execute(tickets_sql.format("?"), (company_id,)).fetchall()
        messages = db.execute(messages_sql.format("?"), (company_id,)).fetchall()
    return {r[0] for r in tickets}, {tuple(r) for r in messages}


@pytest.fixture
async def fresh(test_settings: Settings, tmp_path: Path) -> Any:
    """An empty installation: a new database on Postgres, a new DATA_DIR on SQLite."""
    data_dir = tmp_path / "restored"
    if not test_settings.database_url:
        yield Settings(data_dir=data_dir, secret_key=test_settings.secret_key)
        return
    parts = urlsplit(test_settings.database_url)
    name = f"atende_restore_{uuid.uuid4().hex[:8]}"
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    connection = await asyncpg.connect(admin_url)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(
            data_dir=data_dir,
            database_url=urlunsplit(parts._replace(path=f"/{name}")),
            secret_key=test_settings.secret_key,
        )
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def test_a_backup_restores_into_a_fresh_installation(
    client: httpx.AsyncClient,
    tenant: Tenant,
    test_settings: Settings,
    fresh: Settings,
    tmp_path: Path,
) -> None:
    await _conversation_with_a_picture(client, tenant)
    company = tenant.company.id
    tickets = set(await Ticket.filter(company_id=company).values_list("id", flat=True))
    messages = set(await Message.filter(company_id=company).values_list("id", "body", "media_path"))
    media = {m[2] for m in messages if m[2]}
    assert len(tickets) == 1
    assert len(messages) >= 3
    assert len(media) == 1

    made = _atende(settings_env(test_settings), "backup", "--output", str(tmp_path))
    assert made.returncode == 0, made.stderr
    written = re.search(r"Backup written to (\S+) \(", made.stdout)
    assert written, made.stdout
    archive = Path(written[1])
    assert archive.parent == tmp_path
    assert archive.name.startswith("atende-backup-")
    with tarfile.open(archive) as contents:
        names = contents.getnames()
    assert "manifest.json" in names
    assert any(n.startswith("database.") for n in names)

    target = settings_env(fresh)
    restored = _atende(target, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert "Restored the backup of" in restored.stdout
    assert await _restored_rows(fresh, company) == (tickets, messages)
    for path in media:
        assert (fresh.effective_media_dir / path).read_bytes() == PNG

    again = _atende(target, "restore", str(archive))
    assert again.returncode == 1
    assert "already holds" in again.stderr
    assert await _restored_rows(fresh, company) == (tickets, messages)  # nothing lost


def test_what_is_not_a_backup_is_refused_by_name(tmp_path: Path, test_settings: Settings) -> None:
    junk = tmp_path / "notes.tar.gz"
    junk.write_bytes(b"not an archive")
    env = settings_env(Settings(data_dir=tmp_path / "empty", database_url=None))
    env.pop("DATABASE_URL", None)
    refused = _atende(env, "restore", str(junk))
    assert refused.returncode == 1
    assert "is not a readable backup" in refused.stderr
    missing = _atende(env, "restore", str(tmp_path / "nowhere.tar.gz"))
    assert "no backup at" in missing.stderr
